/*
 * Copyright (c) 2024 The Aster Model Authors. All rights reserved.
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
#include "quant_flash_attention_layer.h"

#include <cmath>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace aster {
enum FlashAttentionQuantLayerTensorId : int {
    IN_HIDDENSTATES = 0,            // [ntokens, hiddenSize]
    IN_NORMWEIGHT,                  // input_layernorm 权重
    IN_QKVMIXEDLINEARWEIGHT,        // 融合 qkv 权重 [hiddenSize, 3 * hiddenSize / rankSize]
    IN_QKVMIXEDLINEAR_DEQSCALE,
    IN_QKVMIXEDLINEAR_BIAS,
    IN_SELFOUTLINEARWEIGHT,         // o_proj
    IN_SELFOUTLINEAR_DEQSCALE,
    IN_SELFOUTLINEAR_BIAS,
    IN_SELFOUTNORMWEIGHT,           // post_attention_layernorm 权重
    IN_MLPUPWEIGHT,
    IN_MLPUP_DEQSCALE,
    IN_MLPUP_BIAS,
    IN_MLPGATEWEIGHT,
    IN_MLPGATE_DEQSCALE,
    IN_MLPGATE_BIAS,
    IN_MLPDOWNWEIGHT,
    IN_MLPDOWN_DEQSCALE,
    IN_MLPDOWN_BIAS,

    IN_COSEMBED,                    // [ntokens, headDim]
    IN_SINEMBED,                    // [ntokens, headDim]
    IN_ATTENTIONMASK,
    IN_CACHEK,                      // [layerNum, batch, maxSeqLen, hiddenSize / rankSize]
    IN_CACHEV,
    IN_TOKENOFFSET,                 // host tensor
    IN_SEQLEN,                      // host tensor
    IN_LAYERID,
    IN_BETA,
    IN_HOLDER,                      // 占位, 填充组合算子未使用的输入

    OUT_LAYEROUT,

    INTERMIDATE_INPUTNORMOUT,
    INTERMIDATE_MIXEDQKV,
    INTERMIDATE_MIXEDQ,
    INTERMIDATE_MIXEDK,
    INTERMIDATE_MIXEDV,
    INTERMIDATE_POSITIONEMBEDQ,
    INTERMIDATE_POSITIONEMBEDK,
    INTERMIDATE_SELFOUT,
    INTERMIDATE_SELFLINEAROUT,
    INTERMIDATE_SELFRESIDUALADDOUT,
    INTERMIDATE_SELFNORMOUT,
    INTERMIDATE_MLPOUT,
};

static const uint64_t IN_TENSOR_COUNT = 28;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 12;
static const uint64_t NODE_COUNT = 10;

void quantReshapeHeads(const atb::Dims &oldShape, atb::Dims &newShape, int headNum)
{
    // [ntokens, headNum * headDim] -> [ntokens, headNum, headDim]
    newShape.dimNum = 3; // 3: ntokens, headNum, headDim
    newShape.dims[0] = oldShape.dims[0];
    newShape.dims[1] = headNum;
    newShape.dims[2] = oldShape.dims[1] / headNum;
}

void from_json(const nlohmann::json &paramJson, FlashAttentionQuantLayerParam &param)
{
    paramJson.at("rmsNormEps").get_to(param.rmsNormEps);
    paramJson.at("headNum").get_to(param.headNum);
    paramJson.at("dk").get_to(param.dk);
    paramJson.at("qkvInputScale").get_to(param.qkvInputScale);
    paramJson.at("qkvInputOffset").get_to(param.qkvInputOffset);
    paramJson.at("selfLnInputScale").get_to(param.selfLnInputScale);
    paramJson.at("selfLnInputOffset").get_to(param.selfLnInputOffset);
    paramJson.at("denseInputScale").get_to(param.denseInputScale);
    paramJson.at("denseInputOffset").get_to(param.denseInputOffset);
    paramJson.at("ffnOutInputScale").get_to(param.ffnOutInputScale);
    paramJson.at("ffnOutInputOffset").get_to(param.ffnOutInputOffset);
    paramJson.at("isFloatQkvLayer").get_to(param.isFloatQkvLayer);
    paramJson.at("isFloatMlpLayer").get_to(param.isFloatMlpLayer);
    paramJson.at("isFloatDenseLayer").get_to(param.isFloatDenseLayer);
    paramJson.at("isFloatDownLayer").get_to(param.isFloatDownLayer);
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
    if (paramJson.contains("isTriuMask")) {
        paramJson.at("isTriuMask").get_to(param.isTriuMask);
    }
    if (paramJson.contains("transposedWeight")) {
        paramJson.at("transposedWeight").get_to(param.transposedWeight);
    }
    if (paramJson.contains("backend")) {
        paramJson.at("backend").get_to(param.backend);
    }
    if (paramJson.contains("model")) {
        paramJson.at("model").get_to(param.model);
    }
}

atb::Operation *CreateFlashAttentionQuantLayer(const nlohmann::json &paramJson)
{
    ATB_LOG(INFO) << "CreateFlashAttentionQuantLayer, param: " << paramJson.dump();
    atb::Operation *op = nullptr;
    FlashAttentionQuantLayer(paramJson.get<FlashAttentionQuantLayerParam>(), &op);
    return op;
}

atb::Status FlashAttentionQuantLayer(const FlashAttentionQuantLayerParam &param, atb::Operation **operation)
{
    ATB_LOG(INFO) << "aster FlashAttentionQuantLayer headNum: " << param.headNum << ", rankSize: " << param.rankSize;
    atb::GraphParam opGraph;
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    opGraph.name = "AsterFlashAttentionLayer";

    size_t nodeId = 0;
    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &qkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionKvCacheNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    // input_layernorm 与 post_attention_layernorm 共用同一个参数
    atb::infer::RmsNormParam rmsNormParam;
    rmsNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    rmsNormParam.normParam.epsilon = param.rmsNormEps;
    if (param.isFloatQkvLayer) {
        CREATE_OPERATION(rmsNormParam, &inputNormNode.operation);
        inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_NORMWEIGHT};
        inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMOUT};
    } else {
        atb::infer::RmsNormParam inputNormParam = rmsNormParam;
        inputNormParam.normParam.quantInputScale = param.qkvInputScale;
        inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
        inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
        CREATE_OPERATION(inputNormParam, &inputNormNode.operation);
        inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_NORMWEIGHT, IN_BETA};
        inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMOUT};
    }

    atb::infer::LinearParam qkvLinearParam = {false, false, false};
    if (param.isFloatQkvLayer) {
        CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);
        qkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDLINEARWEIGHT};
        qkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDQKV};
    } else {
        atb::infer::LinearParam qkvLinearParam2 = qkvLinearParam;
        qkvLinearParam2.hasBias = true;
        qkvLinearParam2.transposeB = true;
        qkvLinearParam2.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
        CREATE_OPERATION(qkvLinearParam2, &qkvLinearNode.operation);
        qkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDLINEARWEIGHT, IN_QKVMIXEDLINEAR_BIAS,
                                     IN_QKVMIXEDLINEAR_DEQSCALE};
        qkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDQKV};
    }

    // 按最后一维切成 q / k / v
    atb::infer::SplitParam splitQkvParam = {1, 3};
    CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERMIDATE_MIXEDQKV};
    splitQkvNode.outTensorIds = {INTERMIDATE_MIXEDQ, INTERMIDATE_MIXEDK, INTERMIDATE_MIXEDV};

    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = param.rotaryCoeff;
    CREATE_OPERATION(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERMIDATE_MIXEDQ, INTERMIDATE_MIXEDK, IN_COSEMBED, IN_SINEMBED, IN_SEQLEN};
    ropeNode.outTensorIds = {INTERMIDATE_POSITIONEMBEDQ, INTERMIDATE_POSITIONEMBEDK};

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.kvHeadNum = param.kvHeadNum;
    selfAttentionParam.qScale = 1.0;
    selfAttentionParam.qkScale = 1.0 / std::sqrt(param.dk);
    selfAttentionParam.isTriuMask = param.isTriuMask ? 1 : 0;
    CREATE_OPERATION(selfAttentionParam, &selfAttentionKvCacheNode.operation);
    selfAttentionKvCacheNode.inTensorIds = {INTERMIDATE_POSITIONEMBEDQ,
                                            INTERMIDATE_POSITIONEMBEDK,
                                            INTERMIDATE_MIXEDV,
                                            IN_CACHEK,
                                            IN_CACHEV,
                                            IN_ATTENTIONMASK,
                                            IN_TOKENOFFSET,
                                            IN_SEQLEN,
                                            IN_LAYERID};
    selfAttentionKvCacheNode.outTensorIds = {INTERMIDATE_SELFOUT};
    selfAttentionKvCacheNode.inTensorReshapeFuncs.resize(selfAttentionKvCacheNode.inTensorIds.size());
    selfAttentionKvCacheNode.inTensorReshapeFuncs.at(0) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        quantReshapeHeads(oldShape, newShape, param.headNum);
    };
    selfAttentionKvCacheNode.inTensorReshapeFuncs.at(1) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        quantReshapeHeads(oldShape, newShape, param.kvHeadNum);
    };
    selfAttentionKvCacheNode.inTensorReshapeFuncs.at(2) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        quantReshapeHeads(oldShape, newShape, param.kvHeadNum);
    };

    atb_speed::common::ParallelParamV2 selfOutLinearParam;
    selfOutLinearParam.isBias = false;
    selfOutLinearParam.transposeA = false;
    selfOutLinearParam.transposeB = param.transposedWeight;
    selfOutLinearParam.commParam.rank = param.rank;
    selfOutLinearParam.commParam.rankSize = param.rankSize;
    selfOutLinearParam.commParam.backend = param.backend;
    if (param.isFloatDenseLayer) {
        atb_speed::common::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
        selfOutLinearNode.inTensorIds = {INTERMIDATE_SELFOUT, IN_SELFOUTLINEARWEIGHT, IN_HOLDER, IN_HOLDER,
                                         IN_HOLDER, IN_HOLDER, IN_HOLDER};
        selfOutLinearNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};
    } else {
        atb_speed::common::ParallelParamV2 selfOutLinearParam2 = selfOutLinearParam;
        selfOutLinearParam2.isBias = true;
        selfOutLinearParam2.isQuant = true;
        selfOutLinearParam2.transposeB = true;
        selfOutLinearParam2.quantParam.quantType = atb::infer::QUANT_INT8;
        selfOutLinearParam2.quantParam.isQuantOp = true;
        selfOutLinearParam2.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
        selfOutLinearParam2.quantParam.inputScale = param.denseInputScale;
        selfOutLinearParam2.quantParam.inputOffset = param.denseInputOffset;
        atb_speed::common::RowParallelLinearV2(selfOutLinearParam2, &selfOutLinearNode.operation);
        selfOutLinearNode.inTensorIds = {INTERMIDATE_SELFOUT, IN_SELFOUTLINEARWEIGHT, IN_SELFOUTLINEAR_BIAS,
                                         IN_SELFOUTLINEAR_DEQSCALE, IN_HOLDER, IN_HOLDER, IN_HOLDER};
        selfOutLinearNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};
    }
    selfOutLinearNode.inTensorReshapeFuncs.resize(selfOutLinearNode.inTensorIds.size());
    selfOutLinearNode.inTensorReshapeFuncs.at(0) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        // [ntokens, headNum, headDim] -> [ntokens, headNum * headDim]
        newShape.dimNum = 2; // 2: ntokens, hiddenSize
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = oldShape.dims[1] * oldShape.dims[2];
    };

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CREATE_OPERATION(addParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMIDATE_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT};

    if (param.isFloatMlpLayer || param.isFloatDownLayer) {
        CREATE_OPERATION(rmsNormParam, &selfNormNode.operation);
        selfNormNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_SELFOUTNORMWEIGHT};
        selfNormNode.outTensorIds = {INTERMIDATE_SELFNORMOUT};
    } else {
        atb::infer::RmsNormParam selfNormParam = rmsNormParam;
        selfNormParam.normParam.quantInputScale = param.selfLnInputScale;
        selfNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
        selfNormParam.normParam.quantType = atb::infer::QUANT_INT8;
        CREATE_OPERATION(selfNormParam, &selfNormNode.operation);
        selfNormNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_SELFOUTNORMWEIGHT, IN_BETA};
        selfNormNode.outTensorIds = {INTERMIDATE_SELFNORMOUT};
    }

    // SwiGLU: down(silu(gate(x)) * up(x))
    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWISH;
    mlpParam.transposeB = param.transposedWeight;
    mlpParam.isBias = false;
    mlpParam.isPack = false;
    mlpParam.noGate = false;
    mlpParam.commDownParam.rank = param.rank;
    mlpParam.commDownParam.rankSize = param.rankSize;
    mlpParam.commDownParam.backend = param.backend;
    if (param.isFloatMlpLayer || param.isFloatDownLayer) {
        atb_speed::common::MlpGateLayerV2(mlpParam, &mlpNode.operation);
        mlpNode.inTensorIds = {INTERMIDATE_SELFNORMOUT,
                               IN_MLPUPWEIGHT,
                               IN_MLPGATEWEIGHT,
                               IN_MLPDOWNWEIGHT,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER};
        mlpNode.outTensorIds = {INTERMIDATE_MLPOUT};
    } else {
        atb_speed::common::MlpGateParamV2 mlpParam2 = mlpParam;
        mlpParam2.isBias = true;
        mlpParam2.isQuant = true;
        mlpParam2.transposeB = true;
        mlpParam2.quantUpParam.quantType = atb::infer::QUANT_INT8;
        mlpParam2.quantUpParam.isQuantOp = false;
        mlpParam2.quantGateParam.quantType = atb::infer::QUANT_INT8;
        mlpParam2.quantGateParam.isQuantOp = false;
        mlpParam2.quantDownParam.quantType = atb::infer::QUANT_INT8;
        mlpParam2.quantDownParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
        mlpParam2.quantDownParam.inputScale = param.ffnOutInputScale;
        mlpParam2.quantDownParam.inputOffset = param.ffnOutInputOffset;
        atb_speed::common::MlpGateLayerV2(mlpParam2, &mlpNode.operation);
        mlpNode.inTensorIds = {INTERMIDATE_SELFNORMOUT,
                               IN_MLPUPWEIGHT,
                               IN_MLPGATEWEIGHT,
                               IN_MLPDOWNWEIGHT,
                               IN_MLPUP_DEQSCALE,
                               IN_MLPGATE_DEQSCALE,
                               IN_MLPDOWN_DEQSCALE,
                               IN_MLPUP_BIAS,
                               IN_MLPGATE_BIAS,
                               IN_MLPDOWN_BIAS,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER,
                               IN_HOLDER};
        mlpNode.outTensorIds = {INTERMIDATE_MLPOUT};
    }

    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, INTERMIDATE_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_LAYEROUT};

    opGraph.inferShapeFunc = [=](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        // 输出与输入 hidden states 形状一致
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

FlashAttentionQuantLayerBinder::FlashAttentionQuantLayerBinder() = default;

FlashAttentionQuantLayerBinder::~FlashAttentionQuantLayerBinder() = default;

void FlashAttentionQuantLayerBinder::ParseParam(const nlohmann::json &paramJson)
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

void FlashAttentionQuantLayerBinder::BindTensor(atb::VariantPack &variantPack)
{
    variantPack.inTensors.at(IN_TOKENOFFSET).hostData = tokenOffset_.data();
    variantPack.inTensors.at(IN_SEQLEN).hostData = seqLen_.data();
}
} // namespace aster
} // namespace atb_speed
