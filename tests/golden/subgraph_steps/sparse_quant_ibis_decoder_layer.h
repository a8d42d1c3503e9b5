/*
 * Copyright (c) 2025 The Ibis Model Authors. All rights reserved.
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
#ifndef ATB_SPEED_MODELS_SPARSE_QUANT_IBIS_DECODER_LAYER_H
#define ATB_SPEED_MODELS_SPARSE_QUANT_IBIS_DECODER_LAYER_H

#include <string>
#include <atb/atb_infer.h>
#include "atb_speed/log.h"

namespace atb_speed {
namespace ibis {
struct IbisSparseQuantLayerParam {
    float rmsNormEps = 0;
    int headNum = 0;
    int dk = 0;
    int rank = 0;
    int rankSize = 1;
    std::string backend = "hccl";
    bool useAlibi = false;    // the attention also reads the alibi slopes
    bool supportLora = false; // the attention also reads the q/k/v lora weights
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
};

struct IbisRopeSparseQuantParam {
    int headNum = 0;
    int rotaryCoeff = 2;
};

// The rotary embedding is a small graph of its own; the layer makes one node of it.
atb::Status SparseQuantIbisRopeOperation(const IbisRopeSparseQuantParam &param, atb::Operation **operation);

atb::Status IbisDecoderSparseQuantLayer(const IbisSparseQuantLayerParam &param, atb::Operation **operation);
} // namespace ibis
} // namespace atb_speed
#endif
