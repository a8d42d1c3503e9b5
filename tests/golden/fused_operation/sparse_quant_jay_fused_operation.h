/*
 * Copyright (c) 2025 The Jay Model Authors. All rights reserved.
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
#pragma once

#include <atb/atb_infer.h>
#include <atb/svector.h>

// one whole decoder layer, built as a single fused operation for the framework's custom op
enum JayFusedSparseQuantLayerTensorId {
    IN_HIDDENSTATES = 0,
    IN_NORMWEIGHT,
    IN_QKVWEIGHT,
    IN_QKV_DEQSCALE,
    IN_QKV_BIAS,
    IN_QKV_INDEX,
    IN_SELFOUTWEIGHT,
    IN_SELFOUT_DEQSCALE,
    IN_SELFOUT_BIAS,
    IN_SELFOUT_INDEX,
    IN_SELFOUTNORMWEIGHT,
    IN_MLPUPWEIGHT,
    IN_MLPUP_DEQSCALE,
    IN_MLPUP_BIAS,
    IN_MLPUP_INDEX,
    IN_MLPGATEWEIGHT,
    IN_MLPGATE_DEQSCALE,
    IN_MLPGATE_BIAS,
    IN_MLPGATE_INDEX,
    IN_MLPDOWNWEIGHT,
    IN_MLPDOWN_DEQSCALE,
    IN_MLPDOWN_BIAS,
    IN_MLPDOWN_INDEX,
    IN_COS,
    IN_SIN,
    IN_ATTENTIONMASK,
    IN_CACHE_K,
    IN_CACHE_V,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_BETA,
    IN_HOLDER,
    OUT_LAYEROUT,
    INTERMIDATE_INPUTNORMOUT,
    INTERMIDATE_QKV,
    INTERMIDATE_Q,
    INTERMIDATE_K,
    INTERMIDATE_V,
    INTERMIDATE_ROPEQ,
    INTERMIDATE_ROPEK,
    INTERMIDATE_SELFOUT,
    INTERMIDATE_SELFLINEAROUT,
    INTERMIDATE_SELFRESIDUALADDOUT,
    INTERMIDATE_SELFNORMOUT,
    INTERMIDATE_MLPOUT,
};

struct JayFusedSparseQuantLayerParam {
    float rmsNormEps = 0;
    int headNum = 0;
    int headDim = 0;
    int rank = 0;
    int rankSize = 1;
    float qkScale = 1.0;
    int rotaryCoeff = 2;
    void *hcclComm = nullptr;
    float qkvInputScale = 1;
    int qkvInputOffset = 0;
    float selfLnInputScale = 1;
    int selfLnInputOffset = 0;
    float denseInputScale = 1;
    int denseInputOffset = 0;
    float ffnOutInputScale = 1;
    int ffnOutInputOffset = 0;
};

atb::Status JayFusedSparseQuantLayerOperation(const JayFusedSparseQuantLayerParam &param, atb::Operation **operation);
