#!/bin/sh -e
echo hello from a script
