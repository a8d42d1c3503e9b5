/*
 * Copyright (c) 2023-2024 Dorado Contributors. All rights reserved.
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
#include "sparse_quant_flash_attention_rope_layer.h"

#include <cmath>

#include "layers/parallel_layer_v2.h"
#include "layers/mlp_gate_v2.h"

namespace atb_speed {
namespace dorado {
static const uint64_t IN_TENSOR_COUNT = 34;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 12;
static const uint64_t NODE_COUNT = 10;

atb::Operation *CreateFlashAttentionRopeSparseQuantLayer(const nlohmann::json &paramJson)
{
    FlashAttentionRopeSparseQuantLayerParam param;
    param.rmsNormEps = paramJson["rmsNormEps"].get<float>();
    param.headNum = paramJson["headNum"].get<int>();
    param.dk = paramJson["dk"].get<int>();
    param.rank = paramJson["rank"].get<int>();
    param.rankSize = paramJson["rankSize"].get<int>();
    if (paramJson.contains("kvHeadNum")) {
        param.kvHeadNum = paramJson["kvHeadNum"].get<int>();
    } else {
        param.kvHeadNum = param.headNum;
    }
    if (paramJson.contains("rotaryCoeff")) {
        param.rotaryCoeff = paramJson["rotaryCoeff"].get<int>();
    }
    if (paramJson.contains("transposedWeight")) {
        param.transposedWeight = paramJson["transposedWeight"].get<bool>();
    }
    if (paramJson.contains("backend")) {
        param.backend = paramJson["backend"].get<std::string>();
    }
    ATB_LOG(INFO) << "dorado FlashAttentionRopeSparseQuantLayer rmsNormEps:" << param.rmsNormEps << ", headNum:" << param.headNum
                  << ", dk:" << param.dk << ", rank:" << param.rank << ", rankSize:" << param.rankSize;
    param.qkvInputScale = paramJson["qkvInputScale"].get<float>();
    param.qkvInputOffset = paramJson["qkvInputOffset"].get<int>();
    param.selfLnInputScale = paramJson["selfLnInputScale"].get<float>();
    param.selfLnInputOffset = paramJson["selfLnInputOffset"].get<int>();
    param.denseInputScale = paramJson["denseInputScale"].get<float>();
    param.denseInputOffset = paramJson["denseInputOffset"].get<int>();
    param.ffnOutInputScale = paramJson["ffnOutInputScale"].get<float>();
    param.ffnOutInputOffset = paramJson["ffnOutInputOffset"].get<int>();
    atb::Operation *op = nullptr;
    FlashAttentionRopeSparseQuantLayer(param, &op);
    return op;
}

/*
 * dorado 解码层计算图 (float):
 *
 *   hidden ──> RmsNorm ──> Linear(qkv) ──> Split ──> q, k, v
 *   q, k ──> Rope(cos, sin, seqLen) ──> qEmbed, kEmbed
 *   qEmbed, kEmbed, v ──> SelfAttention(cacheK, cacheV, mask, tokenOffset, seqLen, layerId)
 *   attnOut ──> RowParallelLinear (V1, all reduce) ──> + hidden ──> residual
 *   residual ──> RmsNorm ──> MlpGateLayer (V1, gate/up packed, SwiGLU) ──> + residual ──> out
 *
 * 形状约定: hidden 为 [ntokens, hiddenSize], cos / sin 为 [1, ntokens, headDim],
 * cacheK / cacheV 为 [layerNum, batch, maxSeqLen, hiddenSize / rankSize].
 */
atb::Status FlashAttentionRopeSparseQuantLayer(const FlashAttentionRopeSparseQuantLayerParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    ATB_LOG(INFO) << "build dorado FlashAttentionRopeSparseQuantLayer, model: " << param.model;
    opGraph.name = "DoradoFlashAttentionRopeLayer";
    opGraph.inTensorNum = IN_TENSOR_COUNT;
    opGraph.outTensorNum = OUT_TENSOR_COUNT;
    opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;
    opGraph.nodes.resize(NODE_COUNT);
    size_t nodeId = 0;

    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mixedQkvLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &splitQkvNode = opGraph.nodes.at(nodeId++);
    atb::Node &ropeNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfAttentionKvCacheNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfOutLinearNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfResidualAddNode = opGraph.nodes.at(nodeId++);
    atb::Node &selfNormNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpNode = opGraph.nodes.at(nodeId++);
    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);

    // 两个 RmsNorm 节点共用一个参数
    atb::infer::RmsNormParam rmsNormParam;
    rmsNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    rmsNormParam.normParam.epsilon = param.rmsNormEps;
    rmsNormParam.normParam.quantInputScale = param.qkvInputScale;
    rmsNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    rmsNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CreateOperation(rmsNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDENSTATES, IN_NORMWEIGHT, IN_BETA};
    inputNormNode.outTensorIds = {INTERMIDATE_INPUTNORMOUT};

    // 融合 qkv 线性层, 不带 bias
    atb::infer::LinearSparseParam linearParam = {false, true, 8, 8};
    CreateOperation(linearParam, &mixedQkvLinearNode.operation);
    mixedQkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDLINEARWEIGHT, IN_QKVMIXEDLINEAR_BIAS,
                                      IN_QKVMIXEDLINEAR_DEQSCALE, IN_QKVMIXEDLINEAR_INDEX};
    mixedQkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDQKV};

    // 按最后一维把融合的 qkv 切成 q / k / v 三份
    atb::infer::SplitParam splitParam = {1, 3};
    CreateOperation(splitParam, &splitQkvNode.operation);
    splitQkvNode.inTensorIds = {INTERMIDATE_MIXEDQKV};
    splitQkvNode.outTensorIds = {INTERMIDATE_MIXEDQ, INTERMIDATE_MIXEDK, INTERMIDATE_MIXEDV};

    // rope 只作用于 q 和 k, cos / sin 需要先压成二维
    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = param.rotaryCoeff;
    CreateOperation(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERMIDATE_MIXEDQ, INTERMIDATE_MIXEDK, IN_COSEMBED, IN_SINEMBED, IN_SEQLEN};
    ropeNode.outTensorIds = {INTERMEDIATE_POSITIONEMBEDQ, INTERMEDIATE_POSITIONEMBEDK};
    ropeNode.inTensorReshapeFuncs.resize(ropeNode.inTensorIds.size());
    ropeNode.inTensorReshapeFuncs.at(2) = [](const atb::Dims &oldShape, atb::Dims &newShape) {
        // [1, ntokens, headDim] -> [ntokens, headDim]
        newShape.dimNum = 2; // 2: ntokens, headDim
        newShape.dims[0] = oldShape.dims[0] * oldShape.dims[1];
        newShape.dims[1] = oldShape.dims[2];
    };
    ropeNode.inTensorReshapeFuncs.at(3) = [](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 2; // 2: ntokens, headDim
        newShape.dims[0] = oldShape.dims[0] * oldShape.dims[1];
        newShape.dims[1] = oldShape.dims[2];
    };

    // flash attention + kv cache, q / k / v 需 reshape 成 [ntokens, headNum, headDim]
    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.kvHeadNum = param.kvHeadNum;
    selfAttentionParam.qkScale = 1.0 / std::sqrt(param.dk);
    CreateOperation(selfAttentionParam, &selfAttentionKvCacheNode.operation);
    selfAttentionKvCacheNode.inTensorIds = {INTERMEDIATE_POSITIONEMBEDQ, INTERMEDIATE_POSITIONEMBEDK,
                                            INTERMIDATE_MIXEDV, IN_CACHEK, IN_CACHEV, IN_ATTENTIONMASK,
                                            IN_TOKENOFFSET, IN_SEQLEN, IN_LAYERID};
    selfAttentionKvCacheNode.outTensorIds = {INTERMIDATE_SELFOUT};
    selfAttentionKvCacheNode.inTensorReshapeFuncs.resize(selfAttentionKvCacheNode.inTensorIds.size());
    selfAttentionKvCacheNode.inTensorReshapeFuncs.at(0) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 3; // 3: ntokens, headNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = param.headNum;
        newShape.dims[2] = oldShape.dims[1] / param.headNum;
    };
    selfAttentionKvCacheNode.inTensorReshapeFuncs.at(1) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 3; // 3: ntokens, kvHeadNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = param.kvHeadNum;
        newShape.dims[2] = oldShape.dims[1] / param.kvHeadNum;
    };
    selfAttentionKvCacheNode.inTensorReshapeFuncs.at(2) = [=](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 3; // 3: ntokens, kvHeadNum, headDim
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = param.kvHeadNum;
        newShape.dims[2] = oldShape.dims[1] / param.kvHeadNum;
    };

    // V1 并行线性层: 只有 {x, weight} 两个输入
    atb_speed::common::ParallelParamV2 selfOutLinearParam;
    selfOutLinearParam.commParam.rank = param.rank;
    selfOutLinearParam.commParam.rankSize = param.rankSize;
    selfOutLinearParam.commParam.rankRoot = 0;
    selfOutLinearParam.isBias = true;
    selfOutLinearParam.transposeB = true;
    selfOutLinearParam.commParam.backend = param.backend;
    selfOutLinearParam.isQuant = true;
    selfOutLinearParam.quantParam.quantType = atb::infer::QUANT_INT8;
    selfOutLinearParam.quantParam.isQuantOp = true;
    selfOutLinearParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    selfOutLinearParam.quantParam.inputScale = param.denseInputScale;
    selfOutLinearParam.quantParam.inputOffset = param.denseInputOffset;
    selfOutLinearParam.isSparse = true;
    atb_speed::common::RowParallelLinearV2(selfOutLinearParam, &selfOutLinearNode.operation);
    selfOutLinearNode.inTensorIds = {INTERMIDATE_SELFOUT, IN_SELFOUTLINEARWEIGTH, IN_SELFOUTLINEAR_BIAS,
                                     IN_SELFOUTLINEAR_DEQSCALE, IN_SELFOUTLINEAR_INDEX, IN_HOLDER, IN_HOLDER};
    selfOutLinearNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};
    selfOutLinearNode.inTensorReshapeFuncs.resize(selfOutLinearNode.inTensorIds.size());
    selfOutLinearNode.inTensorReshapeFuncs.at(0) = [](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 2; // 2: ntokens, hiddenSize
        newShape.dims[0] = oldShape.dims[0];
        newShape.dims[1] = oldShape.dims[1] * oldShape.dims[2];
    };

    // 残差相加, 两个 add 节点共用一个参数
    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CreateOperation(addParam, &selfResidualAddNode.operation);
    selfResidualAddNode.inTensorIds = {IN_HIDDENSTATES, INTERMIDATE_SELFLINEAROUT};
    selfResidualAddNode.outTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT};

    atb::infer::RmsNormParam selfNormParam = rmsNormParam;
    selfNormParam.normParam.quantInputScale = param.selfLnInputScale;
    selfNormParam.normParam.quantInputOffset = param.selfLnInputOffset;
    selfNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CreateOperation(selfNormParam, &selfNormNode.operation);
    selfNormNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_SELFOUTNORMWEIGHT, IN_BETA};
    selfNormNode.outTensorIds = {INTERMIDATE_SELFNORMOUT};

    // gate/up 合并 (isPack), 输入为 {x, gateUpWeight, downWeight}
    atb_speed::common::MlpGateParamV2 mlpParam;
    mlpParam.commDownParam.rank = param.rank;
    mlpParam.commDownParam.rankSize = param.rankSize;
    mlpParam.commDownParam.rankRoot = 0;
    mlpParam.activationType = atb::infer::ActivationType::ACTIVATION_SWISH;
    mlpParam.transposeB = true;
    mlpParam.isBias = true;
    mlpParam.isPack = false;
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
    mlpNode.inTensorIds = {INTERMIDATE_SELFNORMOUT, IN_MLP_UP_WEIGHT, IN_MLP_GATE_WEIGHT, IN_MLPDOWNWEIGHT,
                           IN_MLP_UP_DEQSCALE, IN_MLP_GATE_DEQSCALE, IN_MLPDOWN_DEQSCALE, IN_MLP_UP_BIAS,
                           IN_MLP_GATE_BIAS, IN_MLPDOWN_BIAS, IN_MLP_UP_INDEX, IN_MLP_GATE_INDEX, IN_MLPDOWN_INDEX,
                           IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER, IN_HOLDER};
    mlpNode.outTensorIds = {INTERMIDATE_MLPOUT};

    CreateOperation(addParam, &mlpResidualAddNode.operation);
    mlpResidualAddNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, INTERMIDATE_MLPOUT};
    mlpResidualAddNode.outTensorIds = {OUT_LAYEROUT};

    opGraph.inferShapeFunc = [&](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                 atb::SVector<atb::TensorDesc> &outTensorDescs) {
        // 输出 dtype / format 与 hidden states 相同, 形状为 [ntokens, hiddenSize]
        outTensorDescs.at(0).dtype = inTensorDescs.at(IN_HIDDENSTATES).dtype;
        outTensorDescs.at(0).format = inTensorDescs.at(IN_HIDDENSTATES).format;
        outTensorDescs.at(0).shape.dimNum = inTensorDescs.at(IN_HIDDENSTATES).shape.dimNum;
        outTensorDescs.at(0).shape.dims[0] = inTensorDescs.at(IN_HIDDENSTATES).shape.dims[0];
        outTensorDescs.at(0).shape.dims[1] = inTensorDescs.at(IN_HIDDENSTATES).shape.dims[1];
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

FlashAttentionRopeSparseQuantLayerBinder::FlashAttentionRopeSparseQuantLayerBinder() = default;

FlashAttentionRopeSparseQuantLayerBinder::~FlashAttentionRopeSparseQuantLayerBinder() = default;

void FlashAttentionRopeSparseQuantLayerBinder::ParseParam(const nlohmann::json &paramJson)
{
    tokenOffset_.clear();
    for (auto item : paramJson["tokenOffset"].get<std::vector<int32_t>>()) {
        tokenOffset_.push_back(item);
    }

    seqLen_.clear();
    for (auto item : paramJson["seqLen"].get<std::vector<int32_t>>()) {
        seqLen_.push_back(item);
    }

    if (tokenOffset_.size() != seqLen_.size()) {
        ATB_LOG(WARN) << "dorado binder: tokenOffset size " << tokenOffset_.size()
                      << " != seqLen size " << seqLen_.size();
    }
}

void FlashAttentionRopeSparseQuantLayerBinder::BindTensor(atb::VariantPack &variantPack)
{
    // tokenOffset / seqLen 都是 host 侧数据, 由算子在 setup 阶段读取
    variantPack.inTensors.at(IN_TOKENOFFSET).hostData = tokenOffset_.data();
    variantPack.inTensors.at(IN_SEQLEN).hostData = seqLen_.data();
}
} // namespace dorado
} // namespace atb_speed
