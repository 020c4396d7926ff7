#include <cblas.h>
// OpenBLAS's own thread control, declared in its cblas.h.
