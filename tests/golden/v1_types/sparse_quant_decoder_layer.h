/*
 * Copyright (c) 2024 Zephyr Model Authors. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_ZEPHYR_SPARSE_QUANT_DECODER_LAYER_H
#define ATB_SPEED_MODELS_ZEPHYR_SPARSE_QUANT_DECODER_LAYER_H

#include <atb/atb_infer.h>
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "nlohmann/json.hpp"

namespace atb_speed {
namespace zephyr {
enum DecoderSparseQuantLayerTensorId : int {
    IN_HIDDENSTATES = 0,
    IN_INPUTNORMWEIGHT,
    IN_QKVMIXEDWEIGHT,
    IN_QKVMIXEDBIAS,
    IN_QKVMIXED_DEQSCALE,
    IN_QKVMIXED_INDEX,
    IN_SELFOUTLINEARWEIGHT,
    IN_SELFOUTLINEARBIAS,
    IN_SELFOUTLINEAR_DEQSCALE,
    IN_SELFOUTLINEAR_INDEX,
    IN_POSTNORMWEIGHT,
    IN_MLP_UP_WEIGHT, // packed [gate; up]
    IN_MLP_UP_DEQSCALE,
    IN_MLP_UP_BIAS,
    IN_MLP_UP_INDEX,
    IN_MLP_GATE_WEIGHT,
    IN_MLP_GATE_DEQSCALE,
    IN_MLP_GATE_BIAS,
    IN_MLP_GATE_INDEX,
    IN_MLPDOWNWEIGHT,
    IN_MLPDOWN_DEQSCALE,
    IN_MLPDOWN_BIAS,
    IN_MLPDOWN_INDEX,
    IN_COSTABLE,
    IN_SINTABLE,
    IN_ATTENTIONMASK,
    IN_PASTKEY,
    IN_PASTVALUE,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_BETA,
    IN_HOLDER,

    OUT_ZEPHYRLAYEROUT,

    INTERMEDIATE_INPUTNORMOUT,
    INTERMEDIATE_MIXEDQKV,
    INTERMEDIATE_QUERY,
    INTERMEDIATE_KEY,
    INTERMEDIATE_VALUE,
    INTERMEDIATE_QUERYEMBED,
    INTERMEDIATE_KEYEMBED,
    INTERMEDIATE_SELFOUT,
    INTERMEDIATE_SELFLINEAROUT,
    INTERMEDIATE_SELFRESIDUALOUT,
    INTERMEDIATE_POSTNORMOUT,
    INTERMEDIATE_MLPOUT,
};

struct DecoderSparseQuantLayerParam {
    float rmsNormEps = 0;
    int headNum = 0;
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    std::string backend = "lccl";
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
};

void from_json(const nlohmann::json &paramJson, DecoderSparseQuantLayerParam &param);

atb::Status DecoderSparseQuantLayer(const DecoderSparseQuantLayerParam &param, atb::Operation **operation);

atb::Operation *CreateDecoderSparseQuantLayer(const nlohmann::json &paramJson);

class DecoderSparseQuantLayerBinder : public HostTensorBinder {
public:
    DecoderSparseQuantLayerBinder();
    virtual ~DecoderSparseQuantLayerBinder();
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    std::vector<int> tokenOffset_;
    std::vector<int> seqLen_;
};
} // namespace zephyr
} // namespace atb_speed
#endif
