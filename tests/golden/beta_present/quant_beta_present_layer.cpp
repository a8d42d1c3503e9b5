/*
 * Copyright (c) 2024 Wren Model Contributors. All rights reserved.
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
#include "quant_beta_present_layer.h"
#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace wren {
enum WrenAntiQuantLayerTensorId : int {
    IN_HIDDENSTATES = 0,
    IN_NORMWEIGHT,
    IN_BETA,                // anti-outlier shift, added after each rms norm
    IN_QMIXDWEIGHT,
    IN_QMIXDBIAS,
    IN_QMIXD_DEQSCALE,
    IN_KMIXDWEIGHT,
    IN_KMIXDBIAS,
    IN_KMIXD_DEQSCALE,
    IN_VMIXDWEIGHT,
    IN_VMIXDBIAS,
    IN_VMIXD_DEQSCALE,
    IN_SELFOUTLINEARWEIGHT,
    IN_SELFOUTLINEAR_DEQSCALE,
    IN_SELFOUTLINEAR_BIAS,
    IN_SELFOUTNORMWEIGHT,
    IN_MLPGATEWEIGHT,
    IN_MLPGATEBIAS,
    IN_MLPGATE_DEQSCALE,
    IN_MLPDOWNWEIGHT,
    IN_MLPDOWN_DEQSCALE,
    IN_MLPDOWN_BIAS,
    IN_MLPUPWEIGHT,
    IN_MLPUPBIAS,
    IN_MLPUP_DEQSCALE,
    IN_COSTABLE,
    IN_SINTABLE,
    IN_ATTENTIONMASK,
    IN_CACHEK,
    IN_CACHEV,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_HOLDER,
    OUT_ANTIFLOATLAYEROUT,
    INTERMIDATE_INPUTNORMBETAOUT,
    INTERMIDATE_QMIXEDOUT,
    INTERMIDATE_KMIXEDOUT,
    INTERMIDATE_VMIXEDOUT,
    INTERMIDATE_POSITIONEMBEDQ,
    INTERMIDATE_POSITIONEMBEDK,
    INTERMIDATE_SELFOUT,
    INTERMIDATE_SELFLINEAROUT,
    INTERMIDATE_SELFRESIDUALADDOUT,
    INTERMIDATE_SELFNORMBETAOUT,
    INTERMIDATE_MLPOUT,
};

static const uint64_t IN_TENSOR_COUNT = 34;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 11;
static const uint64_t NODE_COUNT = 11;

atb::Status WrenAntiQuantLayer(const WrenAntiQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    size_t nodeId = 0;

    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &kLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &vLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::RmsNormParam rmsNormParam;
    rmsNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    rmsNormParam.normParam.epsilon = param.rmsNormEps;
    rmsNormParam.normParam.quantInputScale = param.qkvInputScale;
    rmsNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    rmsNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(rmsNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_NORMWEIGHT, IN_BETA};
    inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMBETAOUT};

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;

    atb::infer::LinearParam linearParam = {false, true, true};
    linearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CREATE_OPERATION(linearParam, &qLinearNode.operation);
    qLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMBETAOUT, IN_QMIXDWEIGHT, IN_QMIXDBIAS, IN_QMIXD_DEQSCALE};
    qLinearNode.outTensorIds = {INTERMIDATE_QMIXEDOUT};

    CREATE_OPERATION(linearParam, &kLinearNode.operation);
    kLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMBETAOUT, IN_KMIXDWEIGHT, IN_KMIXDBIAS, IN_KMIXD_DEQSCALE};
    kLinearNode.outTensorIds = {INTERMIDATE_KMIXEDOUT};

    CREATE_OPERATION(linearParam, &vLinearNode.operation);
    vLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMBETAOUT, IN_VMIXDWEIGHT, IN_VMIXDBIAS, IN_VMIXD_DEQSCALE};
    vLinearNode.outTensorIds = {INTERMIDATE_VMIXEDOUT};

    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = 2;
    CREATE_OPERATION(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERMIDATE_QMIXEDOUT, INTERMIDATE_KMIXEDOUT, IN_COSTABLE, IN_SINTABLE, IN_SEQLEN};
    ropeNode.outTensorIds = {INTERMIDATE_POSITIONEMBEDQ, INTERMIDATE_POSITIONEMBEDK};

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.qkScale = param.qkScale;
    CREATE_OPERATION(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {INTERMIDATE_POSITIONEMBEDQ, INTERMIDATE_POSITIONEMBEDK, INTERMIDATE_VMIXEDOUT,
                                     IN_CACHEK, IN_CACHEV, IN_ATTENTIONMASK, IN_TOKENOFFSET, IN_SEQLEN,
                                     IN_LAYERID};
    selfAttentionNode.outTensorIds = {INTERMIDATE_SELFOUT};

    atb_speed::common::ParallelParamV2 selfOutLinearParam;
    selfOutLinearParam.isBias = true;
    selfOutLinearParam.transposeB = true;
    selfOutLinearParam.commParam.rank = param.rank;
    selfOutLinearParam.commParam.rankSize = param.rankSize;
    selfOutLinearParam.commParam.backend = param.backend;
    selfOutLinearParam.isQuant = true;
    selfOutLinearParam.quantParam.quantType = atb::infer::QUANT_INT8;
    selfOutLinearParam.quantParam.isQuantOp = true;
    selfOutLinearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    selfOutLinearParam.quantParam.inputScale = param.denseInputScale;
    selfOutLinearParam.quantParam.inputOffset = param.denseInputOffset;
    atb_speed::common::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
    selfOutLinearNode.inTensorIds = {INTERMIDATE_SELFOUT, IN_SELFOUTLINEARWEIGHT, IN_SELFOUTLINEAR_BIAS,
                                     IN_SELFOUTLINEAR_DEQSCALE, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};

    CREATE_OPERATION(addParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMIDATE_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT};

    atb::infer::RmsNormParam selfNormParam = rmsNormParam;
    selfNormParam.normParam.quantInputScale = param.selfLnInputScale;
    selfNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    selfNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(selfNormParam, &selfNormNode.operation);
    selfNormNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_SELFOUTNORMWEIGHT, IN_BETA};
    selfNormNode.outTensorIds = {INTERMIDATE_SELFNORMBETAOUT};

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
    mlpNode.inTensorIds = {INTERMIDATE_SELFNORMBETAOUT, IN_MLPUPWEIGHT, IN_MLPGATEWEIGHT, IN_MLPDOWNWEIGHT,
                           IN_MLPUP_DEQSCALE, IN_MLPGATE_DEQSCALE, IN_MLPDOWN_DEQSCALE, IN_MLPUPBIAS, IN_MLPGATEBIAS,
                           IN_MLPDOWN_BIAS, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER,
                           IN_HOLDER, IN_HOLDER};
    mlpNode.outTensorIds = {INTERMIDATE_MLPOUT};

    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, INTERMIDATE_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_ANTIFLOATLAYEROUT};

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

WrenAntiQuantLayerBinder::WrenAntiQuantLayerBinder() = default;
WrenAntiQuantLayerBinder::~WrenAntiQuantLayerBinder() = default;

void WrenAntiQuantLayerBinder::ParseParam(const nlohmann::json &paramJson)
{
    tokenOffset_ = paramJson["tokenOffset"].get<std::vector<int32_t>>();
    seqLen_ = paramJson["seqLen"].get<std::vector<int32_t>>();
}

void WrenAntiQuantLayerBinder::BindTensor(atb::VariantPack &variantPack)
{
    variantPack.inTensors.at(IN_TOKENOFFSET).hostData = tokenOffset_.data();
    variantPack.inTensors.at(IN_SEQLEN).hostData = seqLen_.data();
}
} // namespace wren
} // namespace atb_speed
