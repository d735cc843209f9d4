package av

/*
#include <libavcodec/avcodec.h>
*/
import "C"

func dbgSkipLoop(d *VideoDecoder) { d.ctx.skip_loop_filter = C.AVDISCARD_ALL }
