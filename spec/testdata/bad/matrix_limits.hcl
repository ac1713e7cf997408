# What would make more cells, keys or exclude objects than a plan may have is refused
# where it is read, before its objects are: an include or exclude of more than
# 100,000 objects (here 101,000 made cheaply from one list of 1,000), an axis of more
# values than that, more than 64 matrix keys.
locals {
  thousand = [for i in range(1000) : { a = i }]
}

target "include" {
  include  = flatten([for i in range(101) : local.thousand])
  image    = "img"
  script   = "true"
  artifact = "i-${matrix.a}.tar.gz"
}

target "exclude" {
  matrix   = { a = [1, 2] }
  exclude  = flatten([for i in range(101) : local.thousand])
  image    = "img"
  script   = "true"
  artifact = "e-${matrix.a}.tar.gz"
}

target "axis" {
  matrix   = { a = flatten([for i in range(101) : range(1000)]) }
  image    = "img"
  script   = "true"
  artifact = "a-${matrix.a}.tar.gz"
}

target "axes" {
  matrix   = { a0 = [0], a1 = [1], a2 = [2], a3 = [3], a4 = [4], a5 = [5], a6 = [6], a7 = [7], a8 = [8], a9 = [9], a10 = [10], a11 = [11], a12 = [12], a13 = [13], a14 = [14], a15 = [15], a16 = [16], a17 = [17], a18 = [18], a19 = [19], a20 = [20], a21 = [21], a22 = [22], a23 = [23], a24 = [24], a25 = [25], a26 = [26], a27 = [27], a28 = [28], a29 = [29], a30 = [30], a31 = [31], a32 = [32], a33 = [33], a34 = [34], a35 = [35], a36 = [36], a37 = [37], a38 = [38], a39 = [39], a40 = [40], a41 = [41], a42 = [42], a43 = [43], a44 = [44], a45 = [45], a46 = [46], a47 = [47], a48 = [48], a49 = [49], a50 = [50], a51 = [51], a52 = [52], a53 = [53], a54 = [54], a55 = [55], a56 = [56], a57 = [57], a58 = [58], a59 = [59], a60 = [60], a61 = [61], a62 = [62], a63 = [63], a64 = [64] }
  image    = "img"
  script   = "true"
  artifact = "k.tar.gz"
}

target "include_keys" {
  matrix   = { a = [1] }
  include  = [for i in range(64) : { "k${i}" = i }]
  image    = "img"
  script   = "true"
  artifact = "ik.tar.gz"
}
