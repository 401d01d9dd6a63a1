// The one translation unit compiled into kernels.ptx: every kernel file, each also buildable on its own.
#include "matmul.cu"
#include "matmul_mma.cu"
#include "embedding.cu"
#include "norm.cu"
#include "rope.cu"
#include "attention.cu"
#include "elementwise.cu"
