// TEST STUB (llm-transform): minimal stand-in for ATB core types (tensors, nodes, graph, operation).
// Declarations only where possible; not the real Ascend Transformer Boost API.
#ifndef ATB_STUB_ATB_TYPES_H
#define ATB_STUB_ATB_TYPES_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>
#include "atb/svector.h"

// ACL enums (stub: a few values only).
enum aclDataType { ACL_DT_UNDEFINED = -1, ACL_FLOAT = 0, ACL_FLOAT16 = 1, ACL_INT8 = 2, ACL_INT32 = 3,
                   ACL_INT64 = 9, ACL_BF16 = 27 };
enum aclFormat { ACL_FORMAT_UNDEFINED = -1, ACL_FORMAT_NCHW = 0, ACL_FORMAT_ND = 2, ACL_FORMAT_FRACTAL_NZ = 29 };

namespace atb {
using Status = int32_t;
enum ErrorType : int32_t { NO_ERROR = 0, ERROR_INVALID_PARAM, ERROR_INVALID_GRAPH, ERROR_INTERNAL_ERROR };

constexpr uint32_t MAX_DIM = 8;
struct Dims {
    int64_t dims[MAX_DIM] = {0};
    uint64_t dimNum = 0;
};
struct TensorDesc {
    aclDataType dtype = ACL_DT_UNDEFINED;
    aclFormat format = ACL_FORMAT_UNDEFINED;
    Dims shape;
};
struct Tensor {
    TensorDesc desc;
    void *deviceData = nullptr;
    void *hostData = nullptr;
    uint64_t dataSize = 0;
};
struct VariantPack {
    SVector<Tensor> inTensors;
    SVector<Tensor> outTensors;
};

class Operation {
public:
    virtual ~Operation() = default;
    virtual std::string GetName() const = 0;
    virtual uint32_t GetInputNum() const = 0;
    virtual uint32_t GetOutputNum() const = 0;
};

using ReshapeFunc = std::function<void(const Dims &oldShape, Dims &newShape)>;
using InferShapeFunc = std::function<Status(const SVector<TensorDesc> &inTensorDescs,
                                            SVector<TensorDesc> &outTensorDescs)>;

struct Node {
    Operation *operation = nullptr;
    SVector<uint32_t> inTensorIds;
    SVector<uint32_t> outTensorIds;
    SVector<ReshapeFunc> inTensorReshapeFuncs;
};

struct GraphParam {
    std::string name;
    uint32_t inTensorNum = 0;
    uint32_t outTensorNum = 0;
    uint32_t internalTensorNum = 0;
    std::vector<Node> nodes;
    InferShapeFunc inferShapeFunc = nullptr;
};

// Any op param type; graph param gets its own overload.
template <typename OpParam> Status CreateOperation(const OpParam &opParam, Operation **operation);
Status CreateOperation(const GraphParam &opParam, Operation **operation);
} // namespace atb
#endif
