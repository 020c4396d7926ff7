#include <cblas.h>
// OpenBLAS's own thread control, declared in its cblas.h.

// OpenBLAS's (exported, undeclared) stop of its worker threads, which its fork handler also calls; a later threaded
// call starts them again.
int blas_thread_shutdown_(void);
