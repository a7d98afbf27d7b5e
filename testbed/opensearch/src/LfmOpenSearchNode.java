import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * A single OpenSearch 2.19 node for the LFM test bed, started from the jars on the class path.
 *
 * It does not go through org.opensearch.bootstrap.OpenSearch (which refuses to run as root,
 * installs a security manager and checks for jar hell); the node and its module plugins are
 * built directly, with all settings given here.
 *
 * Usage: java -cp CLASSES:LIB/* LfmOpenSearchNode HOME_DIR HTTP_PORT TRANSPORT_PORT
 * HOME_DIR gets config/, data/, logs/, modules/ and plugins/ (created if missing).
 * Stops cleanly on SIGTERM / SIGINT.
 */
public class LfmOpenSearchNode extends Node {

    /** Module plugins (OpenSearch 2.x class names), loaded from the class path. */
    private static final String[] MODULE_PLUGINS = {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.painless.PainlessPlugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
        "org.opensearch.index.reindex.ReindexPlugin",
    };

    LfmOpenSearchNode(Environment environment, List<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    /**
     * The default registers a listener that hands node and cluster ids to OpenSearch's log4j
     * pattern converter, which is only set up by the regular bootstrap; not needed here.
     */
    @Override
    protected void configureNodeAndClusterIdStateListener(ClusterService clusterService) {}

    @SuppressWarnings("unchecked")
    private static List<Class<? extends Plugin>> modulePlugins() throws ClassNotFoundException {
        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : MODULE_PLUGINS) {
            plugins.add((Class<? extends Plugin>) Class.forName(name).asSubclass(Plugin.class));
        }
        return plugins;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: LfmOpenSearchNode HOME_DIR HTTP_PORT TRANSPORT_PORT");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        int httpPort = Integer.parseInt(args[1]);
        int transportPort = Integer.parseInt(args[2]);
        for (String sub : new String[] {"config", "data", "logs", "modules", "plugins"}) {
            Files.createDirectories(home.resolve(sub));
        }

        Settings settings = Settings.builder()
            .put("cluster.name", "lfm-testbed")
            .put("node.name", "lfm-testbed-node")
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", transportPort)
            .putList("node.roles", "cluster_manager", "data", "ingest")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        Environment environment =
            InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> "lfm-testbed-node");

        final LfmOpenSearchNode node = new LfmOpenSearchNode(environment, modulePlugins());
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                if (!node.awaitClose(20, TimeUnit.SECONDS)) {
                    System.err.println("LfmOpenSearchNode: node did not close within 20 s");
                }
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "lfm-opensearch-shutdown"));

        node.start();
        System.out.println("LfmOpenSearchNode: started, http on 127.0.0.1:" + httpPort
            + ", transport on 127.0.0.1:" + transportPort);
        stopped.await();
    }
}
