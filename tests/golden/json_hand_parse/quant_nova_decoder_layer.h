/*
 * Copyright (c) 2024 The Nova Model Authors. All rights reserved.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
#ifndef QUANT_NOVA_DECODER_LAYER_H
#define QUANT_NOVA_DECODER_LAYER_H

#include <atb/atb_infer.h>
#include <atb/svector.h>
#include "atb_speed/base/hosttensor_binder.h"
#include "atb_speed/log.h"
#include "nlohmann/json.hpp"

namespace atb_speed {
namespace nova {
struct DecoderQuantLayerParam {
    float layerNormEps = 0;
    int headNum = 0;
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    std::string backend = "hccl";
    float rotaryPct = 1.0;
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
};

atb::Status DecoderQuantLayer(const DecoderQuantLayerParam &param, atb::Operation **operation);

static atb::Operation *CreateDecoderQuantLayer(const nlohmann::json &paramJson)
{
    DecoderQuantLayerParam param;
    param.layerNormEps = paramJson["layerNormEps"].get<float>();
    param.headNum = paramJson["headNum"].get<int>();
    param.dk = paramJson["dk"].get<int>();
    param.rank = paramJson["rank"].get<int>();
    param.rankSize = paramJson["rankSize"].get<int>();
    param.backend = paramJson["backend"].get<std::string>();
    param.rotaryPct = paramJson["rotaryPct"].get<float>();
    param.qkvInputScale = paramJson["qkvInputScale"].get<float>();
    param.qkvInputOffset = paramJson["qkvInputOffset"].get<int>();
    param.selfLnInputScale = paramJson["selfLnInputScale"].get<float>();
    param.selfLnInputOffset = paramJson["selfLnInputOffset"].get<int>();
    param.denseInputScale = paramJson["denseInputScale"].get<float>();
    param.denseInputOffset = paramJson["denseInputOffset"].get<int>();
    param.ffnOutInputScale = paramJson["ffnOutInputScale"].get<float>();
    param.ffnOutInputOffset = paramJson["ffnOutInputOffset"].get<int>();
    ATB_LOG(INFO) << __func__ << " layerNormEps:" << param.layerNormEps << ", headNum:" << param.headNum
                  << ", dk:" << param.dk << ", rank:" << param.rank << ", rankSize:" << param.rankSize;
    atb::Operation *op;
    DecoderQuantLayer(param, &op);
    return op;
}

class DecoderQuantLayerHostBinder : public HostTensorBinder {
public:
    DecoderQuantLayerHostBinder();
    virtual ~DecoderQuantLayerHostBinder();
    void ParseParam(const nlohmann::json &paramJson) override;
    void BindTensor(atb::VariantPack &variantPack) override;

private:
    atb::SVector<int32_t> tokenOffset_;
    atb::SVector<int32_t> seqLen_;
};
} // namespace nova
} // namespace atb_speed
#endif
