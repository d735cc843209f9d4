#include "textflag.h"

// func prefetchLines(b []byte)
TEXT ·prefetchLines(SB), NOSPLIT, $0-24
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	TESTQ CX, CX
	JLE done
loop:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	SUBQ $64, CX
	JG loop
done:
	RET

// func copyRep(dst, src []byte)
TEXT ·copyRep(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ dst_len+8(FP), CX
	REP; MOVSB
	RET
