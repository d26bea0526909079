int gone_value(void);
int main(void) { return gone_value(); }
