/* A stand-in "libc.so.6" that defines only the symbol version GLIBC_2.2.5, like a glibc older than
 * the one a program was built against: the loader must refuse the program's GLIBC_2.34 needs. */
int puts(const char *s) { (void)s; return 0; }
int __libc_start_main(void) { return 0; }
void __cxa_finalize(void *d) { (void)d; }
