// TEST STUB (llm-transform): umbrella header standing in for the real ATB atb/atb_infer.h.
#ifndef ATB_STUB_ATB_ATB_INFER_H
#define ATB_STUB_ATB_ATB_INFER_H
#include "atb/svector.h"
#include "atb/types.h"
#include "atb/infer_op_params.h"
#endif
