#!/usr/bin/env node
// The published command runs the compiled output; in this repository `npm run oncue` runs the source.
import '../dist/main.js'
