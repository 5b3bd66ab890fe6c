# Turns the file IN into a C source OUT defining `const char SYMBOL[]`
# (NUL-terminated), so embedded defaults never drift from the shipped file.
file(READ ${IN} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," content "${content}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" content "${content}")
file(WRITE ${OUT} "/* Generated from ${IN}; do not edit. */\n"
  "extern const char ${SYMBOL}[];\n"
  "const char ${SYMBOL}[] = {\n${content}0x00};\n")
