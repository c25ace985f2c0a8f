# The CLI's data path, end to end (label e2e):
#  1. quantize lenet on Fashion-MNIST streamed (--data-load stream, the default) and read whole
#     (--data-load memory): report.json must be the same apart from the run time;
#  2. a tiny synthetic ImageNet-shaped folder (synth-images), quantized on CaffeNet with Caffe's
#     preparation (--preprocess caffe_imagenet: 256x256, crop 227, BGR, mean);
#  3. image-folder options on a set that is not an image folder: exit 2, named.
set(W ${OUT})
file(REMOVE_RECURSE ${W})
file(MAKE_DIRECTORY ${W})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN}\nexit ${rc}\n${out}\n${err}")
  endif()
endfunction()

# 1. lenet, streamed vs in memory.
if(EXISTS /usr/share/datasets/fashion-mnist)
  foreach(mode stream memory)
    run(${RISTSIM} quantize --model ${SRC}/models/lenet_fmnist.onnx --data fashion-mnist
        --out ${W}/lenet_${mode} --images 300 --search-images 500 --test-images 1000
        --data-load ${mode} --cost bits --quiet)
    file(STRINGS ${W}/lenet_${mode}/report.json r_${mode} REGEX "^  \"seconds\"" )
    file(READ ${W}/lenet_${mode}/report.json json_${mode})
    string(REGEX REPLACE "\n  \"seconds\": [^\n]*" "" json_${mode} "${json_${mode}}")
  endforeach()
  if(NOT json_stream STREQUAL json_memory)
    message(FATAL_ERROR "streamed and in-memory reports differ:\n${json_stream}\n---\n${json_memory}")
  endif()
  if(NOT json_stream MATCHES "\"quantized\": {\"search_top1\": 0\\.[0-9]+")
    message(FATAL_ERROR "no quantized top-1 in the report:\n${json_stream}")
  endif()
else()
  message(STATUS "dataset-fashion-mnist not installed: lenet comparison skipped")
endif()

# 2. CaffeNet on a tiny synthetic folder (random weights: the figures mean nothing, the data path
#    and the shapes do).
run(${RISTSIM} synth-images --out ${W}/imagenet --classes 3 --train 2 --val 2 --seed 3 --format mixed)
run(${RISTSIM} quantize --model ${SRC}/models/caffenet.yaml --data ${W}/imagenet
    --preprocess caffe_imagenet --out ${W}/caffenet --bits 8 --images 2 --search-images 2
    --batch 2 --cost bits --quiet)
file(READ ${W}/caffenet/report.json cj)
if(NOT cj MATCHES "\"test_images\": 6")
  message(FATAL_ERROR "caffenet report: expected 6 test images:\n${cj}")
endif()

# 3. Preparation options need an image folder.
if(EXISTS /usr/share/datasets/fashion-mnist)
  execute_process(COMMAND ${RISTSIM} eval --model ${SRC}/models/lenet_fmnist.onnx --data fashion-mnist
                          --crop 227 --mean 1,2,3
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "--crop, --mean: image-folder options, but 'fashion-mnist'")
    message(FATAL_ERROR "eval --crop on a non-folder: exit ${rc}, ${err}")
  endif()
endif()
# 4. Bad values of the data options: exit 2, the option named, before any model is read.
foreach(case "--resize;0;--resize: '0' is not a size" "--preprocess;caffe;--preprocess must be"
             "--mean;1,2;--mean takes one value or three" "--crop;300;--crop 300 is larger than the resize"
             "--order;random;--order must be" "--max-images;-1;--max-images must not be negative"
             "--data-load;disk;--data-load must be stream or memory")
  list(GET case 0 opt)
  list(GET case 1 val)
  list(GET case 2 want)
  execute_process(COMMAND ${RISTSIM} eval --model ${SRC}/models/lenet_fmnist.onnx --data ${W}/imagenet ${opt} ${val}
                  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "${want}")
    message(FATAL_ERROR "eval ${opt} ${val}: exit ${rc}, expected 2 and '${want}': ${err}")
  endif()
endforeach()
file(REMOVE_RECURSE ${W})
