# Writes OUTPUT, a C++ fragment listing every kernel template file given in
# SOURCES (';'-separated) as {file name, text}, for KernelTemplates.cpp.
set(body "")
foreach(source ${SOURCES})
  file(READ "${source}" text)
  get_filename_component(name "${source}" NAME)
  string(APPEND body "{\"${name}\", R\"fmc_kernel(${text})fmc_kernel\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
