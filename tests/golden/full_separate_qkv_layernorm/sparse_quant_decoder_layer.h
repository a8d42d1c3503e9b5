/*
 * Copyright (c) 2024 Borealis Team. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_BOREALIS_SPARSE_QUANT_DECODER_LAYER_H
#define ATB_SPEED_MODELS_BOREALIS_SPARSE_QUANT_DECODER_LAYER_H

#include <atb/atb_infer.h>
#include <atb/svector.h>
#include <nlohmann/json.hpp>
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "atb_speed/utils/str_split.h"

namespace atb_speed {
namespace borealis {
struct DecoderSparseQuantLayerParam {
    float layerNormEps = 0;
    int headNum = 0;
    int kvHeadNum = 0;
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    bool useAlibiMask = true;     // borealis 使用 alibi 位置编码, 不做 rope
    bool transposedWeight = true;
    std::string backend = "hccl";
    std::string model = "borealis";
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

class DecoderSparseQuantLayerHostBinder : public HostTensorBinder {
public:
    DecoderSparseQuantLayerHostBinder();

    virtual ~DecoderSparseQuantLayerHostBinder();

    void ParseParam(const nlohmann::json &paramJson) override;

    void BindTensor(atb::VariantPack &variantPack) override;

private:
    std::vector<int> tokenOffset_;
    std::vector<int> seqLen_;
};
} // namespace borealis
} // namespace atb_speed
#endif // ATB_SPEED_MODELS_BOREALIS_SPARSE_QUANT_DECODER_LAYER_H
