# Real kube-apiserver harness (tests/e2e/kube.sh); first run builds v1.20.2 (~7+ min).
tagpin_script_test(e2e.kube-harness e2e 1500 e2e/selftest.sh)
# Resolver against real registries (tests/registry kit) through tests/integration/resolve_driver.
add_subdirectory(integration)
tagpin_script_test(integration.resolver integration 300 integration/resolver.sh)
# Helm chart: lint + templates with assertions; manifests/ equal to a fresh render (tests/chart).
tagpin_script_test(chart.template chart 300 chart/test.sh)
tagpin_script_test(chart.manifests chart 300 chart/manifests-uptodate.sh)
# Container image built offline with buildah from the Dockerfile (slow: debootstrap, apt, build).
tagpin_script_test(image.build image 1200 image/build.sh)
# Registry test kit (tests/registry/README.md): real docker-registry 2.8 in every mode, token and fault servers.
tagpin_script_test(registry.kit integration 300 registry/selftest.sh)
# Data-driven admission cases: one ctest per folder of tests/cases (README in run.py).
file(GLOB TAGPIN_CASES LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/cases/*)
foreach(dir ${TAGPIN_CASES})
  if(IS_DIRECTORY ${dir} AND EXISTS ${dir}/expected.json)
    get_filename_component(name ${dir} NAME)
    add_test(NAME case.${name} COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/cases/run.py
             $<TARGET_FILE:tagpin> ${dir})
    set_tests_properties(case.${name} PROPERTIES LABELS cases TIMEOUT 60)
  endif()
endforeach()
# The HTTPS server over real TLS with curl.
tagpin_script_test(server.tls server 120 server/server.sh)
# tagpin pins every workload kind through a real kube-apiserver with the chart's webhook (tests/e2e/pin.sh).
tagpin_script_test(e2e.pin e2e 900 e2e/pin.sh)
# Pin cases against a real registry (tests/pin-cases/run.sh): patches checked exactly and applied
# with python3-jsonpatch; registry requests counted from the access log.
file(GLOB TAGPIN_PIN_CASES LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/pin-cases/*)
foreach(dir ${TAGPIN_PIN_CASES})
  if(IS_DIRECTORY ${dir})
    get_filename_component(name ${dir} NAME)
    tagpin_script_test(pincase.${name} integration 120 pin-cases/run.sh ${dir})
  endif()
endforeach()
# Command-line and operations tests: every tests/cli/*.test.sh and tests/ops/*.test.sh is one ctest
# (cli.<name>, ops.<name>), so new scripts need no registration here.
foreach(group cli ops)
  file(GLOB TAGPIN_GROUP_SCRIPTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${group}/*.test.sh)
  foreach(script ${TAGPIN_GROUP_SCRIPTS})
    get_filename_component(name ${script} NAME)
    string(REPLACE ".test.sh" "" name ${name})
    tagpin_script_test(${group}.${name} ${group} 300 ${group}/${name}.test.sh)
  endforeach()
endforeach()
