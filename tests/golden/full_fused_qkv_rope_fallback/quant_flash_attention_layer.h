/*
 * Copyright (c) 2024 The Aster Model Authors. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_ASTER_QUANT_FLASH_ATTENTION_LAYER_H
#define ATB_SPEED_MODELS_ASTER_QUANT_FLASH_ATTENTION_LAYER_H

#include <string>
#include <vector>
#include <atb/atb_infer.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <nlohmann/json.hpp>
#pragma GCC diagnostic pop
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "atb_speed/utils/str_split.h"

namespace atb_speed {
namespace aster {
struct FlashAttentionQuantLayerParam {
    float rmsNormEps = 0;
    int headNum = 0;
    int kvHeadNum = 0;        // GQA 时 kv 头数, 0 表示与 headNum 相同
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    int rotaryCoeff = 2;
    bool isTriuMask = false;
    bool transposedWeight = true;
    std::string backend = "hccl";
    std::string model = "aster";
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
    bool isFloatQkvLayer = false;
    bool isFloatMlpLayer = false;
    bool isFloatDenseLayer = false;
    bool isFloatDownLayer = false;
};

void from_json(const nlohmann::json &paramJson, FlashAttentionQuantLayerParam &param);

atb::Status FlashAttentionQuantLayer(const FlashAttentionQuantLayerParam &param, atb::Operation **operation);

atb::Operation *CreateFlashAttentionQuantLayer(const nlohmann::json &paramJson);

class FlashAttentionQuantLayerBinder : public HostTensorBinder {
public:
    FlashAttentionQuantLayerBinder();
    ~FlashAttentionQuantLayerBinder() override;
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    std::vector<int32_t> tokenOffset_;
    std::vector<int32_t> seqLen_;
};
} // namespace aster
} // namespace atb_speed
#endif
