// Builds: beside oops, which does not, it shows one failure does not undo the others' images.
package main

import "fmt"

func main() { fmt.Println("fine") }
