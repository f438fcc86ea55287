#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Repro of issue #12, finding 7 (terminal injection): a worker whose output retitles the
# terminal (OSC 0), clears the screen (CSI 2J), and tries the same through the C1 CSI
# (U+009B, as UTF-8), between two markers. Before vigilctl escaped control characters,
# `vigilctl logs` played these to whoever read the logs.
printf 'before \033]0;pwned\007\033[2J\302\2332J after\n'
exec sleep 1000
