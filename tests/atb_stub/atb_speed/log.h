// TEST STUB (llm-transform): stand-in for atb_speed/log.h: ATB_LOG stream macro, CREATE_OPERATION,
// GetFuncNameAndNameSpace. The log level must be one of DEBUG/INFO/WARN/ERROR/FATAL.
#ifndef ATB_STUB_ATB_SPEED_LOG_H
#define ATB_STUB_ATB_SPEED_LOG_H
#include <string>
#include "atb/atb_infer.h"

namespace atb_speed {
namespace stub {
enum LogLevel { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR, LOG_LEVEL_FATAL };
struct LogStream {
    explicit LogStream(LogLevel) {}
    template <typename T> LogStream &operator<<(const T &) { return *this; }
};
} // namespace stub

std::string GetFuncNameAndNameSpace(const std::string &inputStr);
} // namespace atb_speed

// Unqualified use inside atb_speed::<model> resolves to atb_speed::GetFuncNameAndNameSpace.
#define ATB_LOG(level) atb_speed::stub::LogStream(atb_speed::stub::LOG_LEVEL_##level)
// The newer layers' debug log takes a stream expression: ATB_SPEED_LOG_DEBUG("a " << b).
#define ATB_SPEED_LOG_DEBUG(msg) do { atb_speed::stub::LogStream(atb_speed::stub::LOG_LEVEL_DEBUG) << msg; } while (0)

#define CREATE_OPERATION(param, operation)                                   \
    do {                                                                     \
        atb::Status atbStatus = atb::CreateOperation(param, operation);      \
        if (atbStatus != atb::NO_ERROR) {                                    \
            ATB_LOG(ERROR) << "atb CreateOperation failed: " << atbStatus;   \
            return atbStatus;                                                \
        }                                                                    \
    } while (0)

// Wraps a call that returns atb::Status (e.g. a node-building helper) and returns from the caller on error.
#define CHECK_OPERATION_STATUS_RETURN(call)                                  \
    do {                                                                     \
        atb::Status atbCheckStatus = (call);                                 \
        if (atbCheckStatus != atb::NO_ERROR) {                               \
            ATB_LOG(ERROR) << "operation failed: " << atbCheckStatus;        \
            return atbCheckStatus;                                           \
        }                                                                    \
    } while (0)
#endif
