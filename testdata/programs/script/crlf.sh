#!/bin/sh
echo hello from a crlf script
