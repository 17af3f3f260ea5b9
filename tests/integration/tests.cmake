# Integration tests: black-box tests of the pier binary (Python 3 stdlib), one ctest test per file.
#
# RESOURCE_LOCK: the files are timing-sensitive (timeouts, least-connections, RSS) and this is a
# 2-core machine, so they never run at the same time as each other under `ctest -j`.
# -B: no __pycache__ in the source tree.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
set(PIER_IT_DIR ${PROJECT_SOURCE_DIR}/tests/integration)

# The demo backend's own contract (docs/demo-backend.md), which the tests above rely on.
add_test(NAME integration.demo_backend    COMMAND ${Python3_EXECUTABLE} -B ${PROJECT_SOURCE_DIR}/tools/demo_backend_selftest.py WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.harness         COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_harness.py          WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.config          COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_config.py           WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.proxying        COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_proxying.py         WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.http_rules      COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_http_rules.py       WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.bad_input       COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_bad_input.py        WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.smuggling       COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_smuggling.py        WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.balancing       COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_balancing.py        WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.pooling         COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_pooling.py          WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.retries_timeouts COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_retries_timeouts.py WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.health          COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_health.py           WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.streaming       COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_streaming.py        WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.faults          COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_faults.py           WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.memory          COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_memory.py           WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.cache           COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_cache.py            WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.cache_redis     COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_cache_redis.py      WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.ratelimit       COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_ratelimit.py        WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.admin           COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_admin.py            WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.access_log      COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_access_log.py       WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.dashboard       COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_dashboard.py        WORKING_DIRECTORY ${PIER_IT_DIR})
add_test(NAME integration.lifecycle       COMMAND ${Python3_EXECUTABLE} -B -m unittest -v test_lifecycle.py        WORKING_DIRECTORY ${PIER_IT_DIR})

set(PIER_IT_TESTS
  integration.demo_backend integration.harness integration.config integration.proxying
  integration.http_rules integration.bad_input integration.smuggling integration.balancing integration.pooling
  integration.retries_timeouts integration.health integration.streaming integration.faults
  integration.memory
  integration.lifecycle integration.cache integration.cache_redis integration.ratelimit
  integration.admin integration.access_log integration.dashboard)
set_tests_properties(${PIER_IT_TESTS} PROPERTIES
  ENVIRONMENT "PIER_BIN=$<TARGET_FILE:pier>;PIER_DEMO_BACKEND=${PROJECT_SOURCE_DIR}/tools/demo_backend.py"
  TIMEOUT 300
  LABELS integration
  RESOURCE_LOCK pier_integration)
set_tests_properties(integration.streaming PROPERTIES TIMEOUT 600)

# The soak's short form (bench/soak.py, 60 s of mixed traffic with a flapping backend: RSS and
# descriptors flat, no unexpected error). Not under the sanitizers: their quarantine makes RSS grow.
if(NOT PIER_SANITIZE AND NOT PIER_TSAN)
  add_test(NAME integration.soak_60s
    COMMAND ${Python3_EXECUTABLE} -B ${PROJECT_SOURCE_DIR}/bench/soak.py --seconds 60 --interval 5
      --out ${CMAKE_BINARY_DIR}/soak --pier $<TARGET_FILE:pier>)
  set_tests_properties(integration.soak_60s PROPERTIES TIMEOUT 240 LABELS integration
    RESOURCE_LOCK pier_integration)
endif()
