/*
 * Copyright (c) 2023-2024 Dorado Contributors. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_DORADO_QUANT_FLASH_ATTENTION_ROPE_LAYER_H
#define ATB_SPEED_MODELS_DORADO_QUANT_FLASH_ATTENTION_ROPE_LAYER_H

#include <atb/atb_infer.h>
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "atb_speed/utils/str_split.h"
#include "nlohmann/json.hpp"

namespace atb_speed {
namespace dorado {
enum FlashAttentionRopeQuantLayerTensorId {
    IN_HIDDENSTATES = 0,
    IN_NORMWEIGHT,
    IN_QKVMIXEDLINEARWEIGHT,
    IN_QKVMIXEDLINEAR_DEQSCALE,
    IN_QKVMIXEDLINEAR_BIAS,
    IN_SELFOUTLINEARWEIGTH,         // 与模型侧权重名保持一致 (历史拼写)
    IN_SELFOUTLINEAR_DEQSCALE,
    IN_SELFOUTLINEAR_BIAS,
    IN_SELFOUTNORMWEIGHT,
    IN_MLP_UP_WEIGHT,             // gate 与 up 合并后的权重
    IN_MLP_UP_DEQSCALE,
    IN_MLP_UP_BIAS,
    IN_MLP_GATE_WEIGHT,
    IN_MLP_GATE_DEQSCALE,
    IN_MLP_GATE_BIAS,
    IN_MLPDOWNWEIGHT,
    IN_MLPDOWN_DEQSCALE,
    IN_MLPDOWN_BIAS,
    IN_POSITIONIDS,                 // 本层不使用, 仅为对齐模型输入顺序
    IN_COSEMBED,
    IN_SINEMBED,
    IN_ATTENTIONMASK,
    IN_CACHEK,
    IN_CACHEV,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_BETA,
    IN_HOLDER,

    OUT_LAYEROUT,

    INTERMIDATE_INPUTNORMOUT,
    INTERMIDATE_MIXEDQKV,
    INTERMIDATE_MIXEDQ,
    INTERMIDATE_MIXEDK,
    INTERMIDATE_MIXEDV,
    INTERMEDIATE_POSITIONEMBEDQ,
    INTERMEDIATE_POSITIONEMBEDK,
    INTERMIDATE_SELFOUT,
    INTERMIDATE_SELFLINEAROUT,
    INTERMIDATE_SELFRESIDUALADDOUT,
    INTERMIDATE_SELFNORMOUT,
    INTERMIDATE_MLPOUT,
};

struct FlashAttentionRopeQuantLayerParam {
    float rmsNormEps = 0;
    int headNum = 0;
    int kvHeadNum = 0;
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    int rotaryCoeff = 2;
    bool transposedWeight = true;
    std::string backend = "hccl";
    std::string model = "dorado";
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
};

atb::Status FlashAttentionRopeQuantLayer(const FlashAttentionRopeQuantLayerParam &param, atb::Operation **operation);

atb::Operation *CreateFlashAttentionRopeQuantLayer(const nlohmann::json &paramJson);

class FlashAttentionRopeQuantLayerBinder : public HostTensorBinder {
public:
    FlashAttentionRopeQuantLayerBinder();
    ~FlashAttentionRopeQuantLayerBinder() override;
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    std::vector<int32_t> tokenOffset_;
    std::vector<int32_t> seqLen_;
};
} // namespace dorado
} // namespace atb_speed
#endif
