/*
 * Copyright (c) 2024 Cygnus Inference Group. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_CYGNUS_QUANT_PAGED_ATTENTION_LAYER_H
#define ATB_SPEED_MODELS_CYGNUS_QUANT_PAGED_ATTENTION_LAYER_H

#include <vector>
#include <atb/atb_infer.h>
#include <nlohmann/json.hpp>
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "atb_speed/utils/str_split.h"

namespace atb_speed {
namespace cygnus {
struct PAQuantLayerParam {
    float rmsNormEps = 0;
    int headNum = 0;
    int kvHeadNum = 0;
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    int rotaryCoeff = 2;
    bool isPrefill = false;       // true: 全量 (prefill), false: 增量 (decode)
    bool transposedWeight = true;
    std::string backend = "hccl";
    std::string model = "cygnus";
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
};

void from_json(const nlohmann::json &paramJson, PAQuantLayerParam &param);

atb::Status PAQuantLayer(const PAQuantLayerParam &param, atb::Operation **operation);

static atb::Operation *CreatePAQuantLayer(const nlohmann::json &paramJson)
{
    atb::Operation *op = nullptr;
    PAQuantLayer(paramJson.get<PAQuantLayerParam>(), &op);
    return op;
}

class PAQuantLayerBinder : public HostTensorBinder {
public:
    PAQuantLayerBinder();
    virtual ~PAQuantLayerBinder();
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    std::vector<int32_t> seqLen_;
};
} // namespace cygnus
} // namespace atb_speed
#endif
