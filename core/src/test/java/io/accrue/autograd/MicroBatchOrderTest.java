package io.accrue.autograd;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MicroBatchOrderTest {

    @Test
    void aStepWaitsForTheSameStepOfThePreviousMicroBatch() throws Exception {
        MicroBatchOrder order = new MicroBatchOrder(2);
        order.awaitStep(0, 5); // the window's first micro-batch never waits
        CompletableFuture<Void> second = CompletableFuture.runAsync(() -> order.awaitStep(1, 2));
        order.stepsDone(0, 2);
        Thread.sleep(50);
        assertFalse(second.isDone(), "step 2 of micro-batch 1 ran before step 2 of micro-batch 0");
        order.stepsDone(0, 3);
        second.get(5, TimeUnit.SECONDS);
        // micro-batch 2 (lane 0) waits for micro-batch 1 (lane 1), which has not started
        CompletableFuture<Void> third = CompletableFuture.runAsync(() -> order.awaitStep(2, 0));
        Thread.sleep(50);
        assertFalse(third.isDone());
        order.finished(1);
        third.get(5, TimeUnit.SECONDS);
        // a lane that has moved on to a later micro-batch has finished the earlier one
        MicroBatchOrder three = new MicroBatchOrder(3);
        three.stepsDone(3, 0);
        three.awaitStep(1, 100);
    }

    @Test
    void turnsGoInMicroBatchOrder() throws Exception {
        MicroBatchOrder order = new MicroBatchOrder(3);
        order.awaitTurn(0);
        CompletableFuture<Void> second = CompletableFuture.runAsync(() -> order.awaitTurn(1));
        Thread.sleep(50);
        assertFalse(second.isDone());
        order.endTurn(0);
        second.get(5, TimeUnit.SECONDS);
    }

    @Test
    void abortReleasesEveryWaiterWithAnError() throws Exception {
        MicroBatchOrder order = new MicroBatchOrder(2);
        CompletableFuture<Throwable> step = CompletableFuture.supplyAsync(
                () -> assertThrows(MicroBatchOrder.Aborted.class, () -> order.awaitStep(1, 0)));
        CompletableFuture<Throwable> turn = CompletableFuture.supplyAsync(
                () -> assertThrows(MicroBatchOrder.Aborted.class, () -> order.awaitTurn(1)));
        Thread.sleep(50);
        order.abort();
        assertEquals("another micro-batch of the window failed", step.get(5, TimeUnit.SECONDS).getMessage());
        assertTrue(turn.get(5, TimeUnit.SECONDS) instanceof MicroBatchOrder.Aborted);
        assertThrows(IllegalArgumentException.class, () -> new MicroBatchOrder(0));
    }
}
