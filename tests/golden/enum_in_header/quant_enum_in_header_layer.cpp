/*
 * Copyright (c) 2024 Zeta Model Authors. All rights reserved.
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
#include "models/zeta/layer/quant_enum_in_header_layer.h"
#include "layers/parallel_layer_v2.h"

namespace atb_speed {
namespace zeta {
static const uint64_t IN_TENSOR_COUNT = 24;
static const uint64_t OUT_TENSOR_COUNT = 1;
static const uint64_t INTERMEDIATE_TENSOR_COUNT = 8;
static const uint64_t NODE_COUNT = 8;

atb::Status ZetaAttnBlockQuantLayer(const ZetaAttnBlockQuantParam &param, atb::Operation **operation)
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
    atb::Node &oProjNode = opGraph.nodes.at(nodeId++);
    atb::Node &residualAddNode = opGraph.nodes.at(nodeId++);

    atb::infer::RmsNormParam inputNormParam;
    inputNormParam.layerType = atb::infer::RmsNormParam::RmsNormType::RMS_NORM_NORM;
    inputNormParam.normParam.epsilon = param.rmsNormEps;
    inputNormParam.normParam.quantInputScale = param.qkvInputScale;
    inputNormParam.normParam.quantInputOffset = param.qkvInputOffset;
    inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;
    CreateOperation(inputNormParam, &inputNormNode.operation);
    inputNormNode.inTensorIds = {IN_HIDDEN_STATES, IN_INPUT_NORM_WEIGHT, IN_BETA};
    inputNormNode.outTensorIds = {INTERMEDIATE_INPUT_NORM_OUT};

    atb::infer::LinearParam projParam;
    projParam.transposeB = true;
    projParam.hasBias = true;
    projParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;
    CreateOperation(projParam, &qLinearNode.operation);
    qLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_Q_WEIGHT, IN_Q_BIAS, IN_Q_DEQSCALE};
    qLinearNode.outTensorIds = {INTERMEDIATE_Q};

    CreateOperation(projParam, &kLinearNode.operation);
    kLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_K_WEIGHT, IN_K_BIAS, IN_K_DEQSCALE};
    kLinearNode.outTensorIds = {INTERMEDIATE_K};

    CreateOperation(projParam, &vLinearNode.operation);
    vLinearNode.inTensorIds = {INTERMEDIATE_INPUT_NORM_OUT, IN_V_WEIGHT, IN_V_BIAS, IN_V_DEQSCALE};
    vLinearNode.outTensorIds = {INTERMEDIATE_V};

    atb::infer::RopeParam ropeParam;
    ropeParam.rotaryCoeff = 2;
    CreateOperation(ropeParam, &ropeNode.operation);
    ropeNode.inTensorIds = {INTERMEDIATE_Q, INTERMEDIATE_K, IN_COS_TABLE, IN_SIN_TABLE, IN_SEQ_LEN};
    ropeNode.outTensorIds = {INTERMEDIATE_Q_EMBED, INTERMEDIATE_K_EMBED};
    ropeNode.inTensorReshapeFuncs.resize(ropeNode.inTensorIds.size());
    ropeNode.inTensorReshapeFuncs[0] = [](const atb::Dims &oldShape, atb::Dims &newShape) {
        newShape.dimNum = 2; // [batch * seqLen, hiddenSize]
        newShape.dims[0] = oldShape.dims[0] * oldShape.dims[1];
        newShape.dims[1] = oldShape.dims[2];
    };
    ropeNode.inTensorReshapeFuncs[1] = ropeNode.inTensorReshapeFuncs[0];

    atb::infer::SelfAttentionParam selfAttentionParam;
    selfAttentionParam.headNum = param.headNum;
    selfAttentionParam.kvHeadNum = param.kvHeadNum;
    selfAttentionParam.qkScale = param.qkScale;
    CreateOperation(selfAttentionParam, &selfAttentionNode.operation);
    selfAttentionNode.inTensorIds = {
        INTERMEDIATE_Q_EMBED, INTERMEDIATE_K_EMBED, INTERMEDIATE_V, IN_K_CACHE, IN_V_CACHE,
        IN_ATTENTION_MASK, IN_TOKEN_OFFSET, IN_SEQ_LEN, IN_LAYER_ID,
    };
    selfAttentionNode.outTensorIds = {INTERMEDIATE_ATTN_CONTEXT};

    atb_speed::common::ParallelParamV2 oProjParam;
    oProjParam.isBias = true;
    oProjParam.transposeB = true;
    oProjParam.commParam.rank = param.rank;
    oProjParam.commParam.rankSize = param.rankSize;
    oProjParam.commParam.backend = param.backend;
    oProjParam.isQuant = true;
    oProjParam.quantParam.quantType = atb::infer::QUANT_INT8;
    oProjParam.quantParam.isQuantOp = true;
    oProjParam.quantParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_QUANT;
    oProjParam.quantParam.inputScale = param.denseInputScale;
    oProjParam.quantParam.inputOffset = param.denseInputOffset;
    atb_speed::common::RowParallelLinearV2(oProjParam, &oProjNode.operation);
    oProjNode.inTensorIds = {INTERMEDIATE_ATTN_CONTEXT, IN_O_WEIGHT, IN_O_BIAS, IN_O_DEQSCALE, IN_HOLDER, IN_HOLDER,
                             IN_HOLDER};
    oProjNode.outTensorIds = {INTERMEDIATE_O_PROJ_OUT};

    atb::infer::ElewiseParam addParam;
    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;
    CreateOperation(addParam, &residualAddNode.operation);
    residualAddNode.inTensorIds = {IN_HIDDEN_STATES, INTERMEDIATE_O_PROJ_OUT};
    residualAddNode.outTensorIds = {OUT_ATTN_BLOCK_OUT};

    opGraph.inferShapeFunc = [](const atb::SVector<atb::TensorDesc> &inTensorDescs,
                                atb::SVector<atb::TensorDesc> &outTensorDescs) {
        outTensorDescs.at(0) = inTensorDescs.at(0);
        return atb::NO_ERROR;
    };

    CREATE_OPERATION(opGraph, operation);
    return atb::NO_ERROR;
}

atb::Operation *CreateZetaAttnBlockQuantLayer(const nlohmann::json &paramJson)
{
    ZetaAttnBlockQuantParam param;
    param.rmsNormEps = paramJson["rmsNormEps"].get<float>();
    param.headNum = paramJson["headNum"].get<int>();
    param.kvHeadNum = paramJson["kvHeadNum"].get<int>();
    param.headDim = paramJson["headDim"].get<int>();
    param.qkScale = paramJson["qkScale"].get<float>();
    param.rank = paramJson["rank"].get<int>();
    param.rankSize = paramJson["rankSize"].get<int>();
    param.qkvInputScale = paramJson["qkvInputScale"].get<float>();
    param.qkvInputOffset = paramJson["qkvInputOffset"].get<int>();
    param.denseInputScale = paramJson["denseInputScale"].get<float>();
    param.denseInputOffset = paramJson["denseInputOffset"].get<int>();
    if (paramJson.contains("backend")) {
        param.backend = paramJson["backend"].get<std::string>();
    }
    ATB_LOG(INFO) << "ZetaAttnBlockQuantLayer headNum:" << param.headNum << ", kvHeadNum:" << param.kvHeadNum;
    atb::Operation *op;
    ZetaAttnBlockQuantLayer(param, &op);
    return op;
}

ZetaAttnBlockQuantHostBinder::ZetaAttnBlockQuantHostBinder() {}

ZetaAttnBlockQuantHostBinder::~ZetaAttnBlockQuantHostBinder() {}

void ZetaAttnBlockQuantHostBinder::ParseParam(const nlohmann::json &paramJson)
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

void ZetaAttnBlockQuantHostBinder::BindTensor(atb::VariantPack &variantPack)
{
    const uint32_t tokenOffsetTensorId = IN_TOKEN_OFFSET;
    const uint32_t seqLenTensorId = IN_SEQ_LEN;
    variantPack.inTensors.at(tokenOffsetTensorId).hostData = tokenOffset_.data();
    variantPack.inTensors.at(seqLenTensorId).hostData = seqLen_.data();
}
} // namespace zeta
} // namespace atb_speed
