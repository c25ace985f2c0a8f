# ristsim finetune with a bad training-mode value must exit 2 (bad usage), name the option on
# stderr and write nothing.
file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${RISTSIM} finetune --model /nonexistent/ristsim/model.onnx
                        --data fashion-mnist --out ${OUT} ${ARG} bogus
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "exit code ${rc}, expected 2; stderr: ${err}")
endif()
if(NOT err MATCHES "${ARG}")
  message(FATAL_ERROR "stderr does not name ${ARG}: ${err}")
endif()
if(EXISTS ${OUT})
  message(FATAL_ERROR "${OUT} was written")
endif()
