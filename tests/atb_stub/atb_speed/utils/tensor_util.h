// TEST STUB (llm-transform): stand-in for a tensor-name helper header of newer ATB-speed layers, which name
// their tensors with strings: GetTensorMap numbers the in, out and internal name lists in that order;
// GetTensorIdx / GetTensorIdxList look names up in the map; AddTensorToList appends the names a map of
// candidate lists holds under a key to a list. Declarations only.
#ifndef ATB_STUB_ATB_SPEED_UTILS_TENSOR_UTIL_H
#define ATB_STUB_ATB_SPEED_UTILS_TENSOR_UTIL_H
#include <cstdint>
#include <map>
#include <string>
#include <vector>
#include "atb/atb_infer.h"

namespace atb_speed {
namespace common {
std::map<std::string, uint32_t> GetTensorMap(const std::vector<std::string> &inTensorList,
                                             const std::vector<std::string> &outTensorList,
                                             const std::vector<std::string> &intermediateTensorList);
uint32_t GetTensorIdx(const std::map<std::string, uint32_t> &tensorMap, const std::string &tensorName);
atb::SVector<uint32_t> GetTensorIdxList(const std::map<std::string, uint32_t> &tensorMap,
                                        const std::vector<std::string> &tensorNames);
void AddTensorToList(const std::map<std::string, std::vector<std::string>> &tensorCandidates,
                     const std::string &targetKey, std::vector<std::string> &tensorList);
} // namespace common
} // namespace atb_speed
#endif
