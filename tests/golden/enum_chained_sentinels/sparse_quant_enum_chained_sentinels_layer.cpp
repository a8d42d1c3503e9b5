/*
 * Copyright (c) 2024 Orion Model Contributors. All rights reserved.
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
#include "sparse_quant_enum_chained_sentinels_layer.h"
#include "layers/parallel_layer_v2.h"

namespace atb_speed {
namespace orion {
enum OrionSparseQuantLayerInTensorId : int {
    IN_HIDDENSTATES = 0,
    IN_INPUTNORMWEIGHT,
    IN_INPUTNORMBIAS,
    IN_QKVWEIGHT,
    IN_QKVBIAS,
    IN_QKV_DEQSCALE,
    IN_QKV_INDEX,
    IN_DENSEWEIGHT,
    IN_DENSEBIAS,
    IN_DENSE_DEQSCALE,
    IN_DENSE_INDEX,
    IN_POSTNORMWEIGHT,
    IN_POSTNORMBIAS,
    IN_FFNUPWEIGHT,
    IN_FFNUPBIAS,
    IN_FFNUP_DEQSCALE,
    IN_FFNUP_INDEX,
    IN_FFNDOWNWEIGHT,
    IN_FFNDOWNBIAS,
    IN_FFNDOWN_DEQSCALE,
    IN_FFNDOWN_INDEX,
    IN_ALIBIMASK,
    IN_CACHEK,
    IN_CACHEV,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_HOLDER,
    IN_TENSOR_MAX,
};

enum OrionSparseQuantLayerOutTensorId : int {
    OUT_LAYEROUT = IN_TENSOR_MAX,
    OUT_TENSOR_MAX,
};

enum OrionSparseQuantLayerIntermediateTensorId : int {
    INTERMEDIATE_INPUTNORMOUT = OUT_TENSOR_MAX,
    INTERMEDIATE_INPUTNORMOUT_QUANT,
    INTERMEDIATE_MIXEDQKV,
    INTERMEDIATE_QUERY,
    INTERMEDIATE_KEY,
    INTERMEDIATE_VALUE,
    INTERMEDIATE_ATTNCONTEXT,
    INTERMEDIATE_DENSEOUT,
    INTERMEDIATE_ATTNRESIDUALOUT,
    INTERMEDIATE_POSTNORMOUT,
    INTERMEDIATE_POSTNORMOUT_QUANT,
    INTERMEDIATE_FFNUPOUT,
    INTERMEDIATE_FFNACTOUT,
    INTERMEDIATE_FFNDOWNOUT,
    INTERMEDIATE_TENSOR_MAX,
};

static const uint64_t IN_TENSOR_COUNT = IN_TENSOR_MAX;
static const uint64_t OUT_TENSOR_COUNT = OUT_TENSOR_MAX - IN_TENSOR_MAX;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = INTERMEDIATE_TENSOR_MAX - OUT_TENSOR_MAX;
static const uint64_t NODE_COUNT = 11;

void from_json(const nlohmann::json &paramJson, OrionSparseQuantLayerParam &param)
{
    paramJson.at("layerNormEps").get_to(param.layerNormEps);
    paramJson.at("headNum").get_to(param.headNum);
    paramJson.at("dk").get_to(param.dk);
    paramJson.at("invNormFactorvarAttr").get_to(param.invNormFactorvarAttr);
    paramJson.at("inputNormInputScale").get_to(param.inputNormInputScale);
    paramJson.at("inputNormInputOffset").get_to(param.inputNormInputOffset);
    paramJson.at("postNormInputScale").get_to(param.postNormInputScale);
    paramJson.at("postNormInputOffset").get_to(param.postNormInputOffset);
    paramJson.at("denseInputScale").get_to(param.denseInputScale);
    paramJson.at("denseInputOffset").get_to(param.denseInputOffset);
    paramJson.at("ffnDownInputScale").get_to(param.ffnDownInputScale);
    paramJson.at("ffnDownInputOffset").get_to(param.ffnDownInputOffset);
    if (paramJson.contains("rank")) {
        paramJson.at("rank").get_to(param.rank);
    }
    if (paramJson.contains("rankSize")) {
        paramJson.at("rankSize").get_to(param.rankSize);
    }
}

atb::Status OrionSparseQuantLayer(const OrionSparseQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    size_t nodeId = 0;

    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &denseNode = opGraph.nodes.at(nodeId++);
    atb::Node &attnResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &postNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &ffnUpNode = opGraph.nodes.at(nodeId++);
    atb::Node &ffnActNode = opGraph.nodes.at(nodeId++);
    atb::Node &ffnDownNode = opGraph.nodes.at(nodeId++);
    atb::Node &ffnResidualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::LayerNormParam layerNormParam;
    layerNormParam.layerType = atb::infer::LayerNormParam::LAYER_NORM_NORM;
    layerNormParam.normParam.epsilon = param.layerNormEps;
    layerNormParam.normParam.beginNormAxis = 2;
    layerNormParam.normParam.beginParamsAxis = 1;
    layerNormParam.normParam.quantInputScale = param.inputNormInputScale;
    layerNormParam.normParam.quantInputOffset = param.inputNormInputOffset;
    layerNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(layerNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_INPUTNORMWEIGHT, IN_INPUTNORMBIAS};
    inputNormNode.outTensorIds = {INTERMEDIATE_INPUTNORMOUT, INTERMEDIATE_INPUTNORMOUT_QUANT};

    atb::infer::LinearSparseParam linearParam = {false, true, 8, 8};
    CREATE_OPERATION(linearParam, &qkvLinearNode.operation);
    qkvLinearNode.inTensorIds = {INTERMEDIATE_INPUTNORMOUT_QUANT, IN_QKVWEIGHT, IN_QKVBIAS, IN_QKV_DEQSCALE,
                                 IN_QKV_INDEX};
    qkvLinearNode.outTensorIds = {INTERMEDIATE_MIXEDQKV};

    atb::infer::SplitParam splitParam = {2, 3};
    CREATE_OPERATION(splitParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERMEDIATE_MIXEDQKV};
    splitQkvNode.outTensorIds = {INTERMEDIATE_QUERY, INTERMEDIATE_KEY, INTERMEDIATE_VALUE};

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.qkScale = 1.0 / param.invNormFactorvarAttr;
    selfAttentionParam.maskType = atb::infer::SelfAttentionParam::MASK_TYPE_ALIBI;
    CREATE_OPERATION(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {INTERMEDIATE_QUERY, INTERMEDIATE_KEY, INTERMEDIATE_VALUE, IN_CACHEK, IN_CACHEV,
                                     IN_ALIBIMASK, IN_TOKENOFFSET, IN_SEQLEN, IN_LAYERID};
    selfAttentionNode.outTensorIds = {INTERMEDIATE_ATTNCONTEXT};

    atb_speed::common::ParallelParamV2 rowLinearParam;
    rowLinearParam.isBias = true;
    rowLinearParam.transposeB = true;
    rowLinearParam.commParam.rank = param.rank;
    rowLinearParam.commParam.rankSize = param.rankSize;
    rowLinearParam.commParam.backend = param.backend;
    rowLinearParam.isQuant = true;
    rowLinearParam.quantParam.quantType = atb::infer::QUANT_INT8;
    rowLinearParam.quantParam.isQuantOp = true;
    rowLinearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    rowLinearParam.quantParam.inputScale = param.denseInputScale;
    rowLinearParam.quantParam.inputOffset = param.denseInputOffset;
    rowLinearParam.isSparse = true;
    atb_speed::common::RowParallelLinearV2(rowLinearParam, &denseNode.operation);
    denseNode.inTensorIds = {INTERMEDIATE_ATTNCONTEXT, IN_DENSEWEIGHT, IN_DENSEBIAS, IN_DENSE_DEQSCALE, IN_DENSE_INDEX,
                             IN_HOLDER, IN_HOLDER};
    denseNode.outTensorIds = {INTERMEDIATE_DENSEOUT};

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(addParam, &attnResidualAddNode.operation);
    attnResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMEDIATE_DENSEOUT};
    attnResidualAddNode.outTensorIds = {INTERMEDIATE_ATTNRESIDUALOUT};

    atb::infer::LayerNormParam postNormParam = layerNormParam;
    postNormParam.normParam.quantInputScale = param.postNormInputScale;
    postNormParam.normParam.quantInputOffset = param.postNormInputOffset;
    postNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(postNormParam, &postNormNode.operation);
    postNormNode.inTensorIds = {INTERMEDIATE_ATTNRESIDUALOUT, IN_POSTNORMWEIGHT, IN_POSTNORMBIAS};
    postNormNode.outTensorIds = {INTERMEDIATE_POSTNORMOUT, INTERMEDIATE_POSTNORMOUT_QUANT};

    CREATE_OPERATION(linearParam, &ffnUpNode.operation);
    ffnUpNode.inTensorIds = {INTERMEDIATE_POSTNORMOUT_QUANT, IN_FFNUPWEIGHT, IN_FFNUPBIAS, IN_FFNUP_DEQSCALE,
                             IN_FFNUP_INDEX};
    ffnUpNode.outTensorIds = {INTERMEDIATE_FFNUPOUT};

    atb::infer::ActivationParam activationParam;
    activationParam.activationType = atb::infer::ActivationType::ACTIVATION_GELU;
    CREATE_OPERATION(activationParam, &ffnActNode.operation);
    ffnActNode.inTensorIds = {INTERMEDIATE_FFNUPOUT};
    ffnActNode.outTensorIds = {INTERMEDIATE_FFNACTOUT};

    atb_speed::common::ParallelParamV2 ffnDownParam = rowLinearParam;
    ffnDownParam.isBias = true;
    ffnDownParam.isQuant = true;
    ffnDownParam.transposeB = true;
    ffnDownParam.quantParam.quantType = atb::infer::QUANT_INT8;
    ffnDownParam.quantParam.isQuantOp = true;
    ffnDownParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    ffnDownParam.quantParam.inputScale = param.ffnDownInputScale;
    ffnDownParam.quantParam.inputOffset = param.ffnDownInputOffset;
    ffnDownParam.isSparse = true;
    atb_speed::common::RowParallelLinearV2(ffnDownParam, &ffnDownNode.operation);
    ffnDownNode.inTensorIds = {INTERMEDIATE_FFNACTOUT, IN_FFNDOWNWEIGHT, IN_FFNDOWNBIAS, IN_FFNDOWN_DEQSCALE,
                               IN_FFNDOWN_INDEX, IN_HOLDER, IN_HOLDER};
    ffnDownNode.outTensorIds = {INTERMEDIATE_FFNDOWNOUT};

    CREATE_OPERATION(addParam, &ffnResidualAddNode.operation);
    ffnResidualAddNode.inTensorIds = {INTERMEDIATE_ATTNRESIDUALOUT, INTERMEDIATE_FFNDOWNOUT};
    ffnResidualAddNode.outTensorIds = {OUT_LAYEROUT};

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

OrionSparseQuantLayerBinder::OrionSparseQuantLayerBinder() = default;

OrionSparseQuantLayerBinder::~OrionSparseQuantLayerBinder() = default;

void OrionSparseQuantLayerBinder::ParseParam(const nlohmann::json &paramJson)
{
    tokenOffset_ = paramJson["tokenOffset"].get<std::vector<int32_t>>();
    seqLen_ = paramJson["seqLen"].get<std::vector<int32_t>>();
}

void OrionSparseQuantLayerBinder::BindTensor(atb::VariantPack &variantPack)
{
    variantPack.inTensors.at(IN_TOKENOFFSET).hostData = tokenOffset_.data();
    variantPack.inTensors.at(IN_SEQLEN).hostData = seqLen_.data();
}
} // namespace orion
} // namespace atb_speed
