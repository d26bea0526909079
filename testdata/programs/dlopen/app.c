int note_greet(void);
int main(void) { return note_greet(); }
