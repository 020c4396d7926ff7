#include <dnnl.h>
// Debian's libdnnl is built on OpenMP (libgomp). Its thread count is a per-thread setting, so every
// thread that calls oneDNN sets it (omp.h is not on clang's include path; declared here).
void omp_set_num_threads(int);
int omp_get_max_threads(void);
