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
#include "models/nova/layer/quant_nova_decoder_layer.h"
#include <cmath>
#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace nova {
enum DecoderQuantLayerTensorId {
    IN_HIDDENSTATES = 0,
    IN_INPUTLAYERNORMWEIGHT,
    IN_INPUTLAYERNORMBIAS,
    IN_QKVMIXEDLINEARWEIGHT,
    IN_QKVMIXEDLINEARBIAS,
    IN_QKVMIXEDLINEAR_DEQSCALE,
    IN_SELFOUTLINEARWEIGHT,
    IN_SELFOUTLINEARBIAS,
    IN_SELFOUTLINEAR_DEQSCALE,
    IN_POSTLAYERNORMWEIGHT,
    IN_POSTLAYERNORMBIAS,
    IN_MLPUPWEIGHT,
    IN_MLPUP_DEQSCALE,
    IN_MLPUP_BIAS,
    IN_MLPGATEWEIGHT,
    IN_MLPGATE_DEQSCALE,
    IN_MLPGATE_BIAS,
    IN_MLPDOWNWEIGHT,
    IN_MLPDOWN_DEQSCALE,
    IN_MLPDOWN_BIAS,
    IN_COSTABLE,
    IN_SINTABLE,
    IN_ATTENTIONMASK,
    IN_PASTKEY,
    IN_PASTVALUE,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_HOLDER,
    OUT_NOVALAYEROUT,
    INTERMIDATE_INPUTNORMOUT,
    INTERMIDATE_INPUTNORMOUT_QUANT,
    INTERMIDATE_MIXEDQKV,
    INTERMIDATE_Q,
    INTERMIDATE_K,
    INTERMIDATE_V,
    INTERMIDATE_POSITIONEMBEDQ,
    INTERMIDATE_POSITIONEMBEDK,
    INTERMIDATE_SELFOUT,
    INTERMIDATE_SELFLINEAROUT,
    INTERMIDATE_SELFRESIDUALADDOUT,
    INTERMIDATE_POSTNORMOUT,
    INTERMIDATE_POSTNORMOUT_QUANT,
    INTERMIDATE_MLPOUT,
};

static const uint64_t IN_TENSOR_COUNT = 29;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 14;
static const uint64_t NODE_COUNT = 10;
static const uint64_t LAYER_NORM_AXIS_COUNT = 2;

atb::Status DecoderQuantLayer(const DecoderQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    opGraph.name = "NovaDecoderLayer";

    size_t nodeId = 0;
    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &postNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::LayerNormParam layerNormParam;
    layerNormParam.layerType = atb::infer::LayerNormParam::LayerNormType::LAYER_NORM_NORM;
    layerNormParam.normParam.epsilon = param.layerNormEps;
    layerNormParam.normParam.beginNormAxis = LAYER_NORM_AXIS_COUNT;
    layerNormParam.normParam.beginParamsAxis = 1;
    layerNormParam.normParam.quantInputScale = param.qkvInputScale;
    layerNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    layerNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CreateOperation(layerNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_INPUTLAYERNORMWEIGHT, IN_INPUTLAYERNORMBIAS};
    inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMOUT, INTERMIDATE_INPUTNORMOUT_QUANT};

    atb::infer::LinearParam qkvLinearParam = {false, true, true};
    qkvLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CreateOperation(qkvLinearParam, &qkvLinearNode.operation);
    qkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT_QUANT, IN_QKVMIXEDLINEARWEIGHT, IN_QKVMIXEDLINEARBIAS,
                                 IN_QKVMIXEDLINEAR_DEQSCALE};
    qkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDQKV};

    atb::infer::SplitParam splitParam = {2, 3};
    CreateOperation(splitParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERMIDATE_MIXEDQKV};
    splitQkvNode.outTensorIds = {INTERMIDATE_Q, INTERMIDATE_K, INTERMIDATE_V};

    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = 2;
    CreateOperation(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERMIDATE_Q, INTERMIDATE_K, IN_COSTABLE, IN_SINTABLE, IN_SEQLEN};
    ropeNode.outTensorIds = {INTERMIDATE_POSITIONEMBEDQ, INTERMIDATE_POSITIONEMBEDK};

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.qScale = 1.0 / std::sqrt(param.dk);
    selfAttentionParam.qkScale = 1.0;
    CreateOperation(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {INTERMIDATE_POSITIONEMBEDQ,
                                     INTERMIDATE_POSITIONEMBEDK,
                                     INTERMIDATE_V,
                                     IN_PASTKEY,
                                     IN_PASTVALUE,
                                     IN_ATTENTIONMASK,
                                     IN_TOKENOFFSET,
                                     IN_SEQLEN,
                                     IN_LAYERID};
    selfAttentionNode.outTensorIds = {INTERMIDATE_SELFOUT};

    atb_speed::common::ParallelParamV2 selfOutLinearParam;
    selfOutLinearParam.commParam.rank = param.rank;
    selfOutLinearParam.commParam.rankSize = param.rankSize;
    selfOutLinearParam.commParam.backend = param.backend;
    selfOutLinearParam.isBias = true;
    selfOutLinearParam.isQuant = true;
    selfOutLinearParam.transposeB = true;
    selfOutLinearParam.quantParam.quantType = atb::infer::QUANT_INT8;
    selfOutLinearParam.quantParam.isQuantOp = true;
    selfOutLinearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    selfOutLinearParam.quantParam.inputScale = param.denseInputScale;
    selfOutLinearParam.quantParam.inputOffset = param.denseInputOffset;
    atb_speed::common::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
    selfOutLinearNode.inTensorIds = {INTERMIDATE_SELFOUT, IN_SELFOUTLINEARWEIGHT, IN_SELFOUTLINEARBIAS,
                                     IN_SELFOUTLINEAR_DEQSCALE, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CreateOperation(addParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMIDATE_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT};

    atb::infer::LayerNormParam postNormParam = layerNormParam;
    postNormParam.normParam.quantInputScale = param.selfLnInputScale;
    postNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    postNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CreateOperation(postNormParam, &postNormNode.operation);
    postNormNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_POSTLAYERNORMWEIGHT, IN_POSTLAYERNORMBIAS};
    postNormNode.outTensorIds = {INTERMIDATE_POSTNORMOUT, INTERMIDATE_POSTNORMOUT_QUANT};

    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.commDownParam.rank = param.rank;
    mlpParam.commDownParam.rankSize = param.rankSize;
    mlpParam.commDownParam.backend = param.backend;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWISH;
    mlpParam.transposeB = true;
    mlpParam.isBias = true;
    mlpParam.isPack = false;
    mlpParam.isQuant = true;
    mlpParam.quantUpParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantUpParam.isQuantOp = false;
    mlpParam.quantGateParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantGateParam.isQuantOp = false;
    mlpParam.quantDownParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantDownParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    mlpParam.quantDownParam.inputScale = param.ffnOutInputScale;
    mlpParam.quantDownParam.inputOffset = param.ffnOutInputOffset;
    atb_speed::common::MlpGateLayerV2(mlpParam, &mlpNode.operation);
    mlpNode.inTensorIds = {INTERMIDATE_POSTNORMOUT_QUANT, IN_MLPUPWEIGHT, IN_MLPGATEWEIGHT, IN_MLPDOWNWEIGHT,
                           IN_MLPUP_DEQSCALE, IN_MLPGATE_DEQSCALE, IN_MLPDOWN_DEQSCALE, IN_MLPUP_BIAS, IN_MLPGATE_BIAS,
                           IN_MLPDOWN_BIAS, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER,
                           IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    mlpNode.outTensorIds = {INTERMIDATE_MLPOUT};

    CreateOperation(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, INTERMIDATE_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_NOVALAYEROUT};

    opGraph.inferShapeFunc = [](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    atb::CreateOperation(opGraph, operation);
    return atb::NO_ERROR;
}

DecoderQuantLayerHostBinder::DecoderQuantLayerHostBinder() {}

DecoderQuantLayerHostBinder::~DecoderQuantLayerHostBinder() {}

void DecoderQuantLayerHostBinder::ParseParam(const nlohmann::json &paramJson)
{
    tokenOffset_.clear();
    for (auto item : paramJson["tokenOffset"]) {
        tokenOffset_.push_back(item.get<int32_t>());
    }
    seqLen_.clear();
    for (auto item : paramJson["seqLen"]) {
        seqLen_.push_back(item.get<int32_t>());
    }
}

void DecoderQuantLayerHostBinder::BindTensor(atb::VariantPack &variantPack)
{
    variantPack.inTensors.at(IN_TOKENOFFSET).hostData = tokenOffset_.data();
    variantPack.inTensors.at(IN_SEQLEN).hostData = seqLen_.data();
}
} // namespace nova
} // namespace atb_speed
