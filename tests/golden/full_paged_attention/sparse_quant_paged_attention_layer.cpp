/*
 * Copyright (c) 2024 Cygnus Inference Group. All rights reserved.
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
#include "sparse_quant_paged_attention_layer.h"

#include <cmath>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace cygnus {
enum PASparseQuantLayerTensorId : int {
    IN_HIDDENSTATES = 0,            // [ntokens, hiddenSize]

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

    IN_COSTABLE,                    // 已按 position ids 取好的 cos
    IN_SINTABLE,
    IN_ATTENTIONMASK,               // 仅 prefill 使用
    IN_K_CACHE,                     // [numBlocks, blockSize, kvHeadNum, headDim]
    IN_V_CACHE,
    IN_BLOCK_TABLES,                // 仅 decode 使用
    IN_SLOTS,
    IN_INPUT_LENGTHS,               // host tensor, 每个请求的长度
    IN_BETA,
    IN_PLACE_HOLDER,

    OUT_LAYEROUT,

    INTERNAL_INPUTNORMOUT,
    INTERNAL_MIXEDQKV,
    INTERNAL_MIXEDQ,
    INTERNAL_MIXEDK,
    INTERNAL_MIXEDV,
    INTERNAL_POSITIONEMBEDQ,
    INTERNAL_POSITIONEMBEDK,
    INTERNAL_ATTENTIONOUT,
    INTERNAL_SELFLINEAROUT,
    INTERNAL_SELFRESIDUALADDOUT,
    INTERNAL_SELFNORMOUT,
    INTERNAL_MLPOUT,
};

static const uint64_t IN_TENSOR_COUNT = 33;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERNAL_TENSOR_COUNT = 12;
static const uint64_t NODE_COUNT = 11;

static void MergeHeads(const atb::Dims &oldShape, atb::Dims &newShape)
{
    // [ntokens, headNum, headDim] -> [ntokens, headNum * headDim]
    newShape.dimNum = 2; // 2: ntokens, hiddenSize
    newShape.dims[0] = oldShape.dims[0];
    newShape.dims[1] = oldShape.dims[1] * oldShape.dims[2];
}

void from_json(const nlohmann::json &paramJson, PASparseQuantLayerParam &param)
{
    paramJson.at("rmsNormEps").get_to(param.rmsNormEps);
    paramJson.at("headNum").get_to(param.headNum);
    paramJson.at("dk").get_to(param.dk);
    paramJson.at("isPrefill").get_to(param.isPrefill);
    paramJson.at("qkvInputScale").get_to(param.qkvInputScale);
    paramJson.at("qkvInputOffset").get_to(param.qkvInputOffset);
    paramJson.at("selfLnInputScale").get_to(param.selfLnInputScale);
    paramJson.at("selfLnInputOffset").get_to(param.selfLnInputOffset);
    paramJson.at("denseInputScale").get_to(param.denseInputScale);
    paramJson.at("denseInputOffset").get_to(param.denseInputOffset);
    paramJson.at("ffnOutInputScale").get_to(param.ffnOutInputScale);
    paramJson.at("ffnOutInputOffset").get_to(param.ffnOutInputOffset);
    if (paramJson.contains("kvHeadNum")) {
        paramJson.at("kvHeadNum").get_to(param.kvHeadNum);
    } else {
        param.kvHeadNum = param.headNum;
    }
    if (paramJson.contains("rank")) {
        paramJson.at("rank").get_to(param.rank);
    }
    if (paramJson.contains("rankSize")) {
        paramJson.at("rankSize").get_to(param.rankSize);
    }
    if (paramJson.contains("rotaryCoeff")) {
        paramJson.at("rotaryCoeff").get_to(param.rotaryCoeff);
    }
    if (paramJson.contains("transposedWeight")) {
        paramJson.at("transposedWeight").get_to(param.transposedWeight);
    }
    if (paramJson.contains("backend")) {
        paramJson.at("backend").get_to(param.backend);
    }
}

atb::Status PASparseQuantLayer(const PASparseQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERNAL_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    size_t nodeId = 0;

    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::Node &reshapeAndCacheNode = opGraph.nodes.at(nodeId++);
    atb::Node &attentionNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    inputNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(inputNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_NORMWEIGHT, IN_BETA};
    inputNormNode.outTensorIds = {INTERNAL_INPUTNORMOUT};

    atb::infer::LinearSparseParam qkvLinearParam = {false, true, 8, 8};
    CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);
    qkvLinearNode.inTensorIds = {INTERNAL_INPUTNORMOUT, IN_QKVMIXEDLINEARWEIGHT, IN_QKVMIXEDLINEAR_BIAS,
                                 IN_QKVMIXEDLINEAR_DEQSCALE, IN_QKVMIXEDLINEAR_INDEX};
    qkvLinearNode.outTensorIds = {INTERNAL_MIXEDQKV};

    atb::infer::SplitParam splitQkvParam = {1, 3};
    CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERNAL_MIXEDQKV};
    splitQkvNode.outTensorIds = {INTERNAL_MIXEDQ, INTERNAL_MIXEDK, INTERNAL_MIXEDV};

    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = param.rotaryCoeff;
    CREATE_OPERATION(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERNAL_MIXEDQ, INTERNAL_MIXEDK, IN_COSTABLE, IN_SINTABLE, IN_INPUT_LENGTHS};
    ropeNode.outTensorIds = {INTERNAL_POSITIONEMBEDQ, INTERNAL_POSITIONEMBEDK};

    // 把当前 token 的 k / v 写入 block cache (原地更新 IN_K_CACHE / IN_V_CACHE)
    atb::infer::ReshapeAndCacheParam reshapeCacheParam;
    CREATE_OPERATION(reshapeCacheParam, &reshapeAndCacheNode.operation);
    reshapeAndCacheNode.inTensorIds = {INTERNAL_POSITIONEMBEDK, INTERNAL_MIXEDV, IN_K_CACHE, IN_V_CACHE, IN_SLOTS};
    reshapeAndCacheNode.outTensorIds = {IN_K_CACHE, IN_V_CACHE};
    reshapeAndCacheNode.inTensorReshapeFuncs.resize(reshapeAndCacheNode.inTensorIds.size());
    reshapeAndCacheNode.inTensorReshapeFuncs.at(0) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 3; // 3: ntokens, kvHeadNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = param.kvHeadNum;
        newShape.dims[2] = oldShape.dims[1] / param.kvHeadNum;
    };
    reshapeAndCacheNode.inTensorReshapeFuncs.at(1) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 3; // 3: ntokens, kvHeadNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = param.kvHeadNum;
        newShape.dims[2] = oldShape.dims[1] / param.kvHeadNum;
    };

    if (param.isPrefill) {
        // 全量阶段: 直接用本轮的 q / k / v 计算 attention
        atb::infer::SelfAttentionParam faEnParam;
        faEnParam.headNum = param.headNum;
        faEnParam.kvHeadNum = param.kvHeadNum;
        faEnParam.qkScale = 1.0 / std::sqrt(param.dk);
        faEnParam.isTriuMask = 1;
        faEnParam.calcType = atb::infer::SelfAttentionParam::CalcType::PA_ENCODER;
        faEnParam.maskType = atb::infer::SelfAttentionParam::MaskType::MASK_TYPE_NORM;
        CREATE_OPERATION(faEnParam, &attentionNode.operation);
        attentionNode.inTensorIds = {INTERNAL_POSITIONEMBEDQ, INTERNAL_POSITIONEMBEDK, INTERNAL_MIXEDV,
                                     IN_ATTENTIONMASK, IN_INPUT_LENGTHS};
        attentionNode.outTensorIds = {INTERNAL_ATTENTIONOUT};
        attentionNode.inTensorReshapeFuncs.resize(attentionNode.inTensorIds.size());
        attentionNode.inTensorReshapeFuncs.at(0) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
            newShape.dimNum = 3; // 3: ntokens, headNum, headDim
            newShape.dims[0] = oldShape.dims[0];
            newShape.dims[1] = param.headNum;
            newShape.dims[2] = oldShape.dims[1] / param.headNum;
        };
        attentionNode.inTensorReshapeFuncs.at(1) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
            newShape.dimNum = 3; // 3: ntokens, kvHeadNum, headDim
            newShape.dims[0] = oldShape.dims[0];
            newShape.dims[1] = param.kvHeadNum;
            newShape.dims[2] = oldShape.dims[1] / param.kvHeadNum;
        };
        attentionNode.inTensorReshapeFuncs.at(2) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
            newShape.dimNum = 3; // 3: ntokens, kvHeadNum, headDim
            newShape.dims[0] = oldShape.dims[0];
            newShape.dims[1] = param.kvHeadNum;
            newShape.dims[2] = oldShape.dims[1] / param.kvHeadNum;
        };
    } else {
        // 增量阶段: 从 block cache 中读取历史 k / v
        atb::infer::PagedAttentionParam paDeParam;
        paDeParam.headNum = param.headNum;
        paDeParam.qkScale = 1.0 / std::sqrt(param.dk);
        paDeParam.kvHeadNum = param.kvHeadNum;
        CREATE_OPERATION(paDeParam, &attentionNode.operation);
        attentionNode.inTensorIds = {INTERNAL_POSITIONEMBEDQ, IN_K_CACHE, IN_V_CACHE, IN_BLOCK_TABLES,
                                     IN_INPUT_LENGTHS};
        attentionNode.outTensorIds = {INTERNAL_ATTENTIONOUT};
        attentionNode.inTensorReshapeFuncs.resize(attentionNode.inTensorIds.size());
        attentionNode.inTensorReshapeFuncs.at(0) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
            newShape.dimNum = 3; // 3: ntokens, headNum, headDim
            newShape.dims[0] = oldShape.dims[0];
            newShape.dims[1] = param.headNum;
            newShape.dims[2] = oldShape.dims[1] / param.headNum;
        };
    }

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
    selfOutLinearNode.inTensorIds = {INTERNAL_ATTENTIONOUT, IN_SELFOUTLINEARWEIGHT, IN_SELFOUTLINEAR_BIAS,
                                     IN_SELFOUTLINEAR_DEQSCALE, IN_SELFOUTLINEAR_INDEX, IN_PLACE_HOLDER,
                                     IN_PLACE_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERNAL_SELFLINEAROUT};
    selfOutLinearNode.inTensorReshapeFuncs.resize(selfOutLinearNode.inTensorIds.size());
    selfOutLinearNode.inTensorReshapeFuncs.at(0) = MergeHeads;

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(addParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERNAL_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERNAL_SELFRESIDUALADDOUT};

    atb::infer::RmsNormParam selfNormParam;
    selfNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    selfNormParam.normParam.epsilon = param.rmsNormEps;
    selfNormParam.normParam.quantInputScale = param.selfLnInputScale;
    selfNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    selfNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CREATE_OPERATION(selfNormParam, &selfNormNode.operation);
    selfNormNode.inTensorIds = {INTERNAL_SELFRESIDUALADDOUT, IN_SELFOUTNORMWEIGHT, IN_BETA};
    selfNormNode.outTensorIds = {INTERNAL_SELFNORMOUT};

    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWISH;
    mlpParam.transposeB = true;
    mlpParam.isBias = true;
    mlpParam.isPack = false;
    mlpParam.noGate = false;
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
    mlpNode.inTensorIds = {INTERNAL_SELFNORMOUT, IN_MLPUPWEIGHT, IN_MLPGATEWEIGHT, IN_MLPDOWNWEIGHT,
                           IN_MLPUP_DEQSCALE, IN_MLPGATE_DEQSCALE, IN_MLPDOWN_DEQSCALE, IN_MLPUP_BIAS, IN_MLPGATE_BIAS,
                           IN_MLPDOWN_BIAS, IN_MLPUP_INDEX, IN_MLPGATE_INDEX, IN_MLPDOWN_INDEX, IN_PLACE_HOLDER,
                           IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER, IN_PLACE_HOLDER};
    mlpNode.outTensorIds = {INTERNAL_MLPOUT};

    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERNAL_SELFRESIDUALADDOUT, INTERNAL_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_LAYEROUT};

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

PASparseQuantLayerBinder::PASparseQuantLayerBinder() {}

PASparseQuantLayerBinder::~PASparseQuantLayerBinder() {}

void PASparseQuantLayerBinder::ParseParam(const nlohmann::json &paramJson)
{
    seqLen_.clear();
    for (auto item : paramJson["seqLen"]) {
        seqLen_.push_back(item.get<int32_t>());
    }
}

void PASparseQuantLayerBinder::BindTensor(atb::VariantPack &variantPack)
{
    variantPack.inTensors.at(IN_INPUT_LENGTHS).hostData = seqLen_.data();
}
} // namespace cygnus
} // namespace atb_speed
