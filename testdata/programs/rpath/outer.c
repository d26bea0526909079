int inner_value(void);
int outer_value(void) { return inner_value() + 1; }
