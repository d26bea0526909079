#include <stdio.h>
int conf_value(void);
int main(void) { printf("hello from ld.so.conf (%d)\n", conf_value()); return 0; }
