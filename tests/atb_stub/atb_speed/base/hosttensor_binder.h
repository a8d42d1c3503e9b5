// TEST STUB (llm-transform): stand-in for atb_speed/base/hosttensor_binder.h (global namespace, as in ATB-speed).
#ifndef ATB_STUB_ATB_SPEED_HOSTTENSOR_BINDER_H
#define ATB_STUB_ATB_SPEED_HOSTTENSOR_BINDER_H
#include <nlohmann/json.hpp>
#include "atb/atb_infer.h"

class HostTensorBinder {
public:
    HostTensorBinder() = default;
    virtual ~HostTensorBinder() = default;
    virtual void ParseParam(const nlohmann::json &paramJson) = 0;
    virtual void BindTensor(atb::VariantPack &variantPack) = 0;
};
#endif
