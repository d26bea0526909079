// A stdlib-only Go program: with CGO_ENABLED=0 it links statically.
package main

import "fmt"

func main() { fmt.Println("hello from go") }
