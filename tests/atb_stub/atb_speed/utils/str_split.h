// TEST STUB (llm-transform): stand-in for atb_speed/utils/str_split.h.
#ifndef ATB_STUB_ATB_SPEED_STR_SPLIT_H
#define ATB_STUB_ATB_SPEED_STR_SPLIT_H
#include <string>
#include <vector>

namespace atb_speed {
std::vector<std::string> StrSplit(const std::string &text, const char delimiter);
} // namespace atb_speed
#endif
