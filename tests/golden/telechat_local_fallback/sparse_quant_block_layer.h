/*
 * Copyright (c) 2024 Fixture Authors. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_TELECHAT_SPARSE_QUANT_BLOCK_LAYER_H
#define ATB_SPEED_MODELS_TELECHAT_SPARSE_QUANT_BLOCK_LAYER_H

#include <atb/atb_infer.h>
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "nlohmann/json.hpp"

namespace atb_speed {
namespace telechat {
struct BlockSparseQuantLayerParam {
    float rmsNormEps = 0;
    int headNum = 0;
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    int rotaryCoeff = 2;
    std::string backend = "hccl";
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
    bool isFloatQkvLayer = false;
    bool isFloatDownLayer = false;
};

void from_json(const nlohmann::json &paramJson, BlockSparseQuantLayerParam &param);

atb::Status BlockSparseQuantLayer(const BlockSparseQuantLayerParam &param, atb::Operation **operation);

atb::Operation *CreateBlockSparseQuantLayer(const nlohmann::json &paramJson);

class BlockSparseQuantLayerBinder : public HostTensorBinder {
public:
    BlockSparseQuantLayerBinder();
    ~BlockSparseQuantLayerBinder() override;
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    std::vector<int32_t> tokenOffset_;
    std::vector<int32_t> seqLen_;
};
} // namespace telechat
} // namespace atb_speed
#endif
