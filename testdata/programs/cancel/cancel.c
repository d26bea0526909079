/* pthread_cancel unwinds the cancelled thread: glibc loads libgcc_s.so.1 for it at run time. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
static void *sleeper(void *arg) { (void)arg; for (;;) sleep(1); return NULL; }
int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, sleeper, NULL) != 0) return 1;
  pthread_cancel(t);
  void *res;
  pthread_join(t, &res);
  puts(res == PTHREAD_CANCELED ? "cancelled" : "not cancelled");
  return res == PTHREAD_CANCELED ? 0 : 1;
}
