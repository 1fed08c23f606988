#!/usr/bin/env bash
# A Spark standalone cluster on this machine, from spark-core's own classes: a master and two workers
# (one core each), with a SPARK_HOME whose jars/ links the Maven-resolved jars of nabla-spark-examples.
#   scripts/spark-cluster.sh start DIR     start it (state, logs and pids under DIR); prints the master URL
#   scripts/spark-cluster.sh run DIR ARGS  run DistributedFinetune on it with ARGS
#   scripts/spark-cluster.sh kill-worker DIR N   SIGKILL worker N (1 or 2) and its executors
#   scripts/spark-cluster.sh stop DIR      stop everything
# Builds what is missing (Maven, JDK 17). Executors run with one native thread each.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmd="${1:?usage: spark-cluster.sh start|run|kill-worker|stop DIR [...]}"
dir="$(mkdir -p "${2:?usage: spark-cluster.sh $cmd DIR}" && cd "$2" && pwd)"
shift 2
cp_file="$root/nabla-spark-examples/target/classpath.txt"
opts="$(sed -n 's:.*<spark.jvm.options>\(.*\)</spark.jvm.options>.*:\1:p' "$root/nabla-spark/pom.xml")"
port=7077
export SPARK_LOCAL_IP=127.0.0.1 SPARK_HOME="$dir/spark-home" SPARK_SCALA_VERSION=2.13

build() {
  if [ ! -f "$cp_file" ] || [ -n "$(find "$root" -path '*/target' -prune -o \( -path '*/src/main/*' -o -name pom.xml \) \
      -newer "$cp_file" -print -quit)" ]; then
    echo "spark-cluster: building..." >&2
    (cd "$root" && mvn -q -B -ntp install -DskipTests \
      && mvn -q -B -ntp -pl nabla-spark-examples dependency:build-classpath -Dmdep.includeScope=test \
        -Dmdep.outputFile=target/classpath.txt && touch "$cp_file") 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2
  fi
  rm -rf "$SPARK_HOME" && mkdir -p "$SPARK_HOME/jars"
  tr ':' '\n' < "$cp_file" | while read -r jar; do ln -sf "$jar" "$SPARK_HOME/jars/"; done
  ln -sf "$root/nabla-spark-examples/target/nabla-spark-examples-0.1.0-SNAPSHOT.jar" "$SPARK_HOME/jars/"
}

case "$cmd" in
  start)
    build
    # the daemons log Spark's deploy messages (worker registration, executor loss) at INFO, the rest at WARN
    cat > "$dir/logback-daemons.xml" <<'XML'
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.spark.deploy" level="INFO"/>
  <root level="WARN"><appender-ref ref="OUT"/></root>
</configuration>
XML
    # the driver logs each task's start, end and loss (which executor ran it), to see retries
    cat > "$dir/logback-driver.xml" <<'XML'
<configuration>
  <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.spark.scheduler.TaskSetManager" level="INFO"/>
  <logger name="org.apache.spark.scheduler.DAGScheduler" level="INFO"/>
  <logger name="io.github.nablagfn" level="INFO"/>
  <root level="WARN"><appender-ref ref="ERR"/></root>
</configuration>
XML
    # shellcheck disable=SC2086
    java $opts "-Dlogback.configurationFile=$dir/logback-daemons.xml" -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port $port \
      --webui-port 0 > "$dir/master.log" 2>&1 &
    echo $! > "$dir/master.pid"
    for i in 1 2; do
      mkdir -p "$dir/work$i"
      # shellcheck disable=SC2086
      java $opts "-Dlogback.configurationFile=$dir/logback-daemons.xml" -cp "$SPARK_HOME/jars/*" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 \
        --memory 3g --webui-port 0 --work-dir "$dir/work$i" "spark://127.0.0.1:$port" > "$dir/worker$i.log" 2>&1 &
      echo $! > "$dir/worker$i.pid"
    done
    for _ in $(seq 60); do
      [ "$(grep -h -c 'Successfully registered with master' "$dir"/worker*.log 2>/dev/null | paste -sd+ | bc)" = 2 ] && break
      sleep 1
    done
    grep -h 'Successfully registered with master' "$dir"/worker*.log >&2
    echo "spark://127.0.0.1:$port"
    ;;
  run)
    # shellcheck disable=SC2086
    exec java $opts "-Dlogback.configurationFile=$dir/logback-driver.xml" \
      -Dnabla.threads=1 "-Dspark.executor.extraJavaOptions=$opts -Dnabla.threads=1" \
      -Dspark.executor.memory=2g -Dspark.task.maxFailures=4 -Dspark.executorEnv.OMP_NUM_THREADS=1 \
      -cp "$SPARK_HOME/jars/*" io.github.nablagfn.spark.example.DistributedFinetune \
      --master "spark://127.0.0.1:$port" "$@"
    ;;
  kill-worker)
    n="${1:?worker number}"
    wpid="$(cat "$dir/worker$n.pid")"
    # the worker's executors are its child processes: kill them with it, as a lost machine would
    pkill -KILL -P "$wpid" || true
    kill -KILL "$wpid"
    echo "killed worker $n (pid $wpid) and its executors" >&2
    ;;
  stop)
    for f in "$dir"/worker*.pid "$dir"/master.pid; do
      [ -f "$f" ] && { pkill -TERM -P "$(cat "$f")" || true; kill -TERM "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; }
    done
    ;;
  *) echo "spark-cluster: unknown command $cmd" >&2; exit 2 ;;
esac
