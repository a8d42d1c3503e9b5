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
#include "sparse_quant_ibis_decoder_layer.h"

#include <cmath>
#include <vector>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace ibis {
enum IbisSparseQuantLayerTensorId : int {
    IN_HIDDENSTATES = 0,
    IN_NORMWEIGHT,
    IN_QKVMIXEDLINEARWEIGHT,
    IN_QKVMIXEDLINEAR_DEQSCALE,
    IN_QKVMIXEDLINEAR_BIAS,
    IN_QKVMIXEDLINEAR_INDEX,
    IN_SELFOUTLINEARWEIGHT,
    IN_SELFOUTLINEAR_DEQSCALE,
    IN_SELFOUTLINEAR_BIAS,
    IN_SELFOUTLINEAR_INDEX,
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
    IN_COSEMBED,
    IN_SINEMBED,
    IN_ATTENTIONMASK,
    IN_CACHEK,
    IN_CACHEV,
    IN_TOKENOFFSET,
    IN_SEQLEN,
    IN_LAYERID,
    IN_ALIBI_SLOPES,
    IN_QKV_LORA_A,
    IN_QKV_LORA_B,
    IN_BETA,
    IN_HOLDER,
    OUT_LAYEROUT = 36, // the outputs follow the inputs
    INTERMIDATE_INPUTNORMOUT,
    INTERMIDATE_MIXEDLINEAROUTQKV,
    INTERMIDATE_POSITIONEMBEDQ,
    INTERMIDATE_POSITIONEMBEDK,
    INTERMIDATE_VALUE,
    INTERMIDATE_SELFOUT,
    INTERMIDATE_SELFLINEAROUT,
    INTERMIDATE_SELFRESIDUALADDOUT,
    INTERMIDATE_SELFNORMOUT,
    INTERMIDATE_MLPOUT,
};

static const uint64_t IN_TENSOR_COUNT = 36;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 10;
static const uint64_t NODE_COUNT = 9;

// the rotary embedding's own tensors and counts
enum IbisRopeSparseQuantTensorId : int {
    IN_ROPE_QKV = 0,
    IN_ROPE_COS,
    IN_ROPE_SIN,
    OUT_ROPE_Q,
    OUT_ROPE_K,
    OUT_ROPE_V,
    INTERNAL_ROPE_Q,
    INTERNAL_ROPE_K,
};
static const uint64_t ROPE_IN_TENSOR_COUNT = 3;
static const uint64_t ROPE_OUT_TENSOR_COUNT = 3;
static const uint64_t INTERNAL_TENSOR_COUNT = 2;
static const uint64_t ROPE_NODE_COUNT = 2;

atb::Status SparseQuantIbisRopeOperation(const IbisRopeSparseQuantParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.name = "SparseQuantIbisRopeOperation";
    opGraph.inTensorNum = ROPE_IN_TENSOR_COUNT;
    opGraph.outTensorNum = ROPE_OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERNAL_TENSOR_COUNT;
    opGraph.nodes.resize(ROPE_NODE_COUNT);
    size_t nodeId = 0;

    atb::Node &splitNode = opGraph.nodes.at(nodeId++);
    atb::infer::SplitParam splitParam = {-1, 3};
    CREATE_OPERATION(splitParam, &splitNode.operation);
    splitNode.inTensorIds = {IN_ROPE_QKV};
    splitNode.outTensorIds = {INTERNAL_ROPE_Q, INTERNAL_ROPE_K, OUT_ROPE_V};

    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = param.rotaryCoeff;
    CREATE_OPERATION(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERNAL_ROPE_Q, INTERNAL_ROPE_K, IN_ROPE_COS, IN_ROPE_SIN};
    ropeNode.outTensorIds = {OUT_ROPE_Q, OUT_ROPE_K};

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

static atb::Status AddRope(atb::Node &ropeNode, const IbisSparseQuantLayerParam &param)
{
    IbisRopeSparseQuantParam ropeParam;
    ropeParam.headNum = param.headNum;
    CHECK_OPERATION_STATUS_RETURN(SparseQuantIbisRopeOperation(ropeParam, &ropeNode.operation));
    ropeNode.inTensorIds = {INTERMIDATE_MIXEDLINEAROUTQKV, IN_COSEMBED, IN_SINEMBED};
    ropeNode.outTensorIds = {INTERMIDATE_POSITIONEMBEDQ, INTERMIDATE_POSITIONEMBEDK, INTERMIDATE_VALUE};
    return atb::NO_ERROR;
}

atb::Status IbisDecoderSparseQuantLayer(const IbisSparseQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.name = "IbisDecoderSparseQuantLayer";
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    size_t nodeId = 0;

    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qkvLinearNode = opGraph.nodes.at(nodeId++);
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
    inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMOUT};

    atb::infer::LinearSparseParam qkvLinearParam = {false, true, 8, 8};
    CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);
    qkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDLINEARWEIGHT, IN_QKVMIXEDLINEAR_BIAS,
                                 IN_QKVMIXEDLINEAR_DEQSCALE, IN_QKVMIXEDLINEAR_INDEX};
    qkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDLINEAROUTQKV};

    CHECK_OPERATION_STATUS_RETURN(AddRope(ropeNode, param));

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.qkScale = 1.0 / std::sqrt(param.dk);
    CREATE_OPERATION(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {INTERMIDATE_POSITIONEMBEDQ, INTERMIDATE_POSITIONEMBEDK, INTERMIDATE_VALUE,
                                     IN_CACHEK, IN_CACHEV, IN_ATTENTIONMASK, IN_TOKENOFFSET, IN_SEQLEN, IN_LAYERID};
    if (param.useAlibi) {
        selfAttentionNode.inTensorIds.push_back(IN_ALIBI_SLOPES);
    }
    if (param.supportLora) {
        std::vector<uint32_t> loraInTensorIds = {IN_QKV_LORA_A, IN_QKV_LORA_B};
        for (auto tensorId : loraInTensorIds) {
            selfAttentionNode.inTensorIds.push_back(tensorId);
        }
    }
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
    selfOutLinearParam.isSparse = true;
    atb_speed::common::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
    selfOutLinearNode.inTensorIds = {INTERMIDATE_SELFOUT, IN_SELFOUTLINEARWEIGHT, IN_SELFOUTLINEAR_BIAS,
                                     IN_SELFOUTLINEAR_DEQSCALE, IN_SELFOUTLINEAR_INDEX, IN_HOLDER, IN_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(addParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMIDATE_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT};

    atb::infer::RmsNormParam selfNormParam = rmsNormParam;
    selfNormParam.normParam.quantInputScale = param.selfLnInputScale;
    selfNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    selfNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(selfNormParam, &selfNormNode.operation);
    selfNormNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_SELFOUTNORMWEIGHT, IN_BETA};
    selfNormNode.outTensorIds = {INTERMIDATE_SELFNORMOUT};

    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWISH;
    mlpParam.transposeB = true;
    mlpParam.isBias = true;
    mlpParam.isPack = false;
    mlpParam.commDownParam.rank = param.rank;
    mlpParam.commDownParam.rankSize = param.rankSize;
    mlpParam.commDownParam.backend = param.backend;
    mlpParam.isQuant = true;
    mlpParam.quantUpParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantUpParam.isQuantOp = false;
    mlpParam.quantGateParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantGateParam.isQuantOp = false;
    mlpParam.quantDownParam.quantType = atb::infer::QUANT_INT8;
    mlpParam.quantDownParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    mlpParam.quantDownParam.inputScale = param.ffnOutInputScale;
    mlpParam.quantDownParam.inputOffset = param.ffnOutInputOffset;
    mlpParam.isSparse = true;
    atb_speed::common::MlpGateLayerV2(mlpParam, &mlpNode.operation);
    mlpNode.inTensorIds = {INTERMIDATE_SELFNORMOUT, IN_MLPUPWEIGHT, IN_MLPGATEWEIGHT, IN_MLPDOWNWEIGHT,
                           IN_MLPUP_DEQSCALE, IN_MLPGATE_DEQSCALE, IN_MLPDOWN_DEQSCALE, IN_MLPUP_BIAS, IN_MLPGATE_BIAS,
                           IN_MLPDOWN_BIAS, IN_MLPUP_INDEX, IN_MLPGATE_INDEX, IN_MLPDOWN_INDEX, IN_HOLDER, IN_HOLDER,
                           IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    mlpNode.outTensorIds = {INTERMIDATE_MLPOUT};

    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, INTERMIDATE_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_LAYEROUT};

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}
} // namespace ibis
} // namespace atb_speed
