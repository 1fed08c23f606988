#!/usr/bin/env bash
# Runs the distributed fine-tuning example on a local Spark master, e.g.
#   scripts/spark-local.sh --master 'local[2]' --partitions 2 --model image --iterations 5
# Builds what is missing (Maven, JDK 17). NABLA_THREADS sets the native threads per JVM (default 1, so that
# local[N] runs N single-threaded tasks side by side). On a cluster use spark-submit (docs/distributed.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cp_file="$root/nabla-spark-examples/target/classpath.txt"
if [ ! -f "$cp_file" ] || [ -n "$(find "$root" -path '*/target' -prune -o \( -path '*/src/main/*' -o -name pom.xml \) \
    -newer "$cp_file" -print -quit)" ]; then
  echo "spark-local: building..." >&2
  (cd "$root" && mvn -q -B -ntp install -DskipTests \
    && mvn -q -B -ntp -pl nabla-spark-examples dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile=target/classpath.txt && touch "$cp_file") 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2
fi
# the JVM options Spark needs on Java 17, from the module's pom (one list for tests and runs)
opts="$(sed -n 's:.*<spark.jvm.options>\(.*\)</spark.jvm.options>.*:\1:p' "$root/nabla-spark/pom.xml")"
export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
# shellcheck disable=SC2086
exec java $opts ${JAVA_OPTS:-} -Dlogback.configurationFile="$root/nabla-spark-examples/src/main/config/logback.xml" -Dnabla.threads="${NABLA_THREADS:-1}" \
  -cp "$root/nabla-spark-examples/target/classes:$(cat "$cp_file")" io.github.nablagfn.spark.example.DistributedFinetune "$@"
