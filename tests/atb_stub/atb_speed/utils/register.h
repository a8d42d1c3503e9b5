// TEST STUB (llm-transform): stand-in for atb_speed/utils/register.h (REGISTER_OPERATION at namespace scope).
#ifndef ATB_STUB_ATB_SPEED_REGISTER_H
#define ATB_STUB_ATB_SPEED_REGISTER_H
#include <nlohmann/json.hpp>
#include "atb/atb_infer.h"

namespace atb_speed {
using OperationCreateFunc = atb::Operation *(*)(const nlohmann::json &paramJson);
bool RegisterOperation(const char *nameSpace, const char *funcName, OperationCreateFunc func);
} // namespace atb_speed

#define REGISTER_OPERATION(nameSpace, operationCreateFunc)                                          \
    static const bool nameSpace##_##operationCreateFunc##_stubRegistered =                          \
        atb_speed::RegisterOperation(#nameSpace, #operationCreateFunc, &(operationCreateFunc))
#endif
