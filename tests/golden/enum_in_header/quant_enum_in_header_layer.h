/*
 * Copyright (c) 2024 Zeta Model Authors. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_ZETA_QUANT_ENUM_IN_HEADER_LAYER_H
#define ATB_SPEED_MODELS_ZETA_QUANT_ENUM_IN_HEADER_LAYER_H

#include <atb/atb_infer.h>
#include <atb/svector.h>
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "atb_speed/utils/str_split.h"
#include "nlohmann/json.hpp"

namespace atb_speed {
namespace zeta {
enum ZetaAttnBlockQuantTensorId : uint32_t {
    IN_HIDDEN_STATES = 0,
    IN_INPUT_NORM_WEIGHT,
    IN_Q_WEIGHT,
    IN_Q_DEQSCALE,
    IN_Q_BIAS,
    IN_K_WEIGHT,
    IN_K_DEQSCALE,
    IN_K_BIAS,
    IN_V_WEIGHT,
    IN_V_DEQSCALE,
    IN_V_BIAS,
    IN_O_WEIGHT,
    IN_O_BIAS,
    IN_O_DEQSCALE,
    IN_COS_TABLE,
    IN_SIN_TABLE,
    IN_ATTENTION_MASK,
    IN_K_CACHE,
    IN_V_CACHE,
    IN_TOKEN_OFFSET,
    IN_SEQ_LEN,
    IN_LAYER_ID,
    IN_BETA,
    IN_HOLDER,
    OUT_ATTN_BLOCK_OUT,
    INTERMEDIATE_INPUT_NORM_OUT,
    INTERMEDIATE_Q,
    INTERMEDIATE_K,
    INTERMEDIATE_V,
    INTERMEDIATE_Q_EMBED,
    INTERMEDIATE_K_EMBED,
    INTERMEDIATE_ATTN_CONTEXT,
    INTERMEDIATE_O_PROJ_OUT
};

struct ZetaAttnBlockQuantParam {
    float rmsNormEps = 1e-6;
    int headNum = 0;
    int kvHeadNum = 0;
    int headDim = 0;
    float qkScale = 1.0;
    int rank = 0;
    int rankSize = 1;
    std::string backend = "lccl";
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
};

atb::Status ZetaAttnBlockQuantLayer(const ZetaAttnBlockQuantParam &param, atb::Operation **operation);

atb::Operation *CreateZetaAttnBlockQuantLayer(const nlohmann::json &paramJson);

class ZetaAttnBlockQuantHostBinder : public HostTensorBinder {
public:
    ZetaAttnBlockQuantHostBinder();
    virtual ~ZetaAttnBlockQuantHostBinder();
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    atb::SVector<int32_t> tokenOffset_;
    atb::SVector<int32_t> seqLen_;
};
} // namespace zeta
} // namespace atb_speed
#endif
