/*
 * Copyright (c) 2024 Orion Model Contributors. All rights reserved.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
#ifndef ORION_SPARSE_QUANT_ENUM_CHAINED_SENTINELS_LAYER_H
#define ORION_SPARSE_QUANT_ENUM_CHAINED_SENTINELS_LAYER_H

#include <string>
#include <vector>
#include "atb/atb_infer.h"
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "nlohmann/json.hpp"

namespace atb_speed {
namespace orion {
struct OrionSparseQuantLayerParam {
    float layerNormEps = 1e-5;
    int headNum = 0;
    int dk = 0;
    float invNormFactorvarAttr = 0;
    int rank = 0;
    int rankSize = 1;
    std::string backend = "hccl";
    float inputNormInputScale = 1;
    int inputNormInputOffset = 0;
    float postNormInputScale = 1;
    int postNormInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnDownInputScale = 1;
    int ffnDownInputOffset = 0;
};

void from_json(const nlohmann::json &paramJson, OrionSparseQuantLayerParam &param);

atb::Status OrionSparseQuantLayer(const OrionSparseQuantLayerParam &param, atb::Operation **operation);

class OrionSparseQuantLayerBinder : public HostTensorBinder {
public:
    OrionSparseQuantLayerBinder();
    virtual ~OrionSparseQuantLayerBinder();
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    std::vector<int32_t> tokenOffset_;
    std::vector<int32_t> seqLen_;
};
} // namespace orion
} // namespace atb_speed
#endif
