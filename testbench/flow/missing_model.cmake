# ristsim CMD --model <missing> must exit 2 (bad usage: the input path checker), name the file on stderr and write nothing.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${RISTSIM} ${CMD} --model /nonexistent/ristsim/model.onnx
                        --data fashion-mnist --out ${OUT}
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "exit code ${rc}, expected 2; stderr: ${err}")
endif()
if(NOT err MATCHES "/nonexistent/ristsim/model.onnx")
  message(FATAL_ERROR "stderr does not name the model file: ${err}")
endif()
if(EXISTS ${OUT})
  message(FATAL_ERROR "${OUT} was written")
endif()
